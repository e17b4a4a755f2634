package linux

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// The state directory of the driver:
//
//	<state>/lc/<id>/                 libcontainer's own state
//	<state>/c/<id>/                  the container's process dir (init)
//	<state>/c/<id>/exec/<exec-id>/   one process dir per exec
//	<state>/s/<hash>.sock            monitor control sockets (short paths)
//
// A process dir holds request.json (what the monitor runs), pid (pid and
// start time of the workload), exit.json (its exit status, written once) and
// monitor.log.

var idPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$`)

func validateID(kind, id string) error {
	if !idPattern.MatchString(id) {
		return driver.InvalidArgumentf("invalid %s %q: want 1-128 characters [a-zA-Z0-9_.-], not starting with . _ or -", kind, id)
	}
	return nil
}

type layout struct{ root string }

func (l layout) lcRoot() string                { return filepath.Join(l.root, "lc") }
func (l layout) containersDir() string         { return filepath.Join(l.root, "c") }
func (l layout) containerDir(id string) string { return filepath.Join(l.root, "c", id) }

func (l layout) procDir(id, execID string) string {
	if execID == "" {
		return l.containerDir(id)
	}
	return filepath.Join(l.containerDir(id), "exec", execID)
}

// socketPath is short on purpose: unix socket paths are limited to 108 bytes.
func (l layout) socketPath(id, execID string) string {
	sum := sha256.Sum256([]byte(id + "\x00" + execID))
	return filepath.Join(l.root, "s", hex.EncodeToString(sum[:8])+".sock")
}

// request is what a monitor runs; it is written to request.json in the
// process dir before the monitor starts.
type request struct {
	ID          string
	ExecID      string            `json:",omitempty"`
	Bundle      string            `json:",omitempty"`
	Annotations map[string]string `json:",omitempty"`
	Process     *specs.Process    `json:",omitempty"`
	Stdio       driver.Stdio
	CreatedAt   int64 // unix nanoseconds
}

func writeJSONAtomic(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// pidRecord identifies a process across pid reuse: pid plus start time.
type pidRecord struct {
	Pid       int
	StartTime uint64
}

func (p pidRecord) String() string { return fmt.Sprintf("%d %d", p.Pid, p.StartTime) }

func parsePidRecord(s string) (pidRecord, error) {
	var p pidRecord
	_, err := fmt.Sscanf(strings.TrimSpace(s), "%d %d", &p.Pid, &p.StartTime)
	return p, err
}

func readPidRecord(dir string) (pidRecord, error) {
	data, err := os.ReadFile(filepath.Join(dir, "pid"))
	if err != nil {
		return pidRecord{}, err
	}
	return parsePidRecord(string(data))
}

// processStartTime reads field 22 of /proc/PID/stat.
func processStartTime(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("malformed stat")
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return 0, errors.New("malformed stat")
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// alive reports whether the recorded process still exists (and is not a
// zombie waiting for its parent).
func (p pidRecord) alive() bool {
	if p.Pid <= 0 {
		return false
	}
	st, err := processStartTime(p.Pid)
	if err != nil || st != p.StartTime {
		return false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(p.Pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || len(s) < i+3 || s[i+2] != 'Z'
}
