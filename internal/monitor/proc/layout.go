//go:build linux

package proc

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/internal/monitor/watch"
)

// Layout is the state directory of a driver:
//
//	<state>/c/<id>/                  the container's process dir (init)
//	<state>/c/<id>/exec/<exec-id>/   one process dir per exec
//	<state>/s/<hash>.sock            monitor control sockets (short paths)
//
// A process dir holds request.json (what the monitor runs), pid (pid and
// start time of the workload), exit.json (its exit status, written once) and
// monitor.log. Backends keep their own state next to it (e.g. <state>/lc).
type Layout struct{ Root string }

// ContainersDir holds one process dir per container.
func (l Layout) ContainersDir() string { return filepath.Join(l.Root, "c") }

// ContainerDir is the process dir of a container's init.
func (l Layout) ContainerDir(id string) string { return filepath.Join(l.Root, "c", id) }

// ProcDir is the process dir of the init (execID "") or of an exec.
func (l Layout) ProcDir(id, execID string) string {
	if execID == "" {
		return l.ContainerDir(id)
	}
	return filepath.Join(l.ContainerDir(id), "exec", execID)
}

// ExecIDs lists the exec ids of a container.
func (l Layout) ExecIDs(id string) []string {
	entries, _ := os.ReadDir(filepath.Join(l.ContainerDir(id), "exec"))
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// SocketPath is short on purpose: unix socket paths are limited to 108 bytes.
func (l Layout) SocketPath(id, execID string) string {
	sum := sha256.Sum256([]byte(id + "\x00" + execID))
	return filepath.Join(l.Root, "s", hex.EncodeToString(sum[:8])+".sock")
}

// Stdio is driver.Stdio (same fields: convert with proc.Stdio(s)): host
// paths of the workload's streams, or a terminal.
type Stdio struct {
	Stdin    string
	Stdout   string
	Stderr   string
	Terminal bool
}

// Request is what a monitor runs; it is written to request.json in the
// process dir before the monitor starts.
type Request struct {
	ID          string
	ExecID      string            `json:",omitempty"`
	Bundle      string            `json:",omitempty"`
	Annotations map[string]string `json:",omitempty"`
	Process     *specs.Process    `json:",omitempty"`
	Stdio       Stdio
	CreatedAt   int64 // unix nanoseconds
	// Backend holds what a backend needs beyond the above.
	Backend json.RawMessage `json:",omitempty"`
}

// WriteJSONAtomic writes v as JSON to path through a temporary file and a
// rename (no fsync: runtime state).
func WriteJSONAtomic(path string, v any) error { return watch.WriteJSONAtomic(path, v) }

// ReadJSON reads JSON from path into v.
func ReadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// PidRecord identifies a process across pid reuse: pid plus start time.
type PidRecord struct {
	Pid       int
	StartTime uint64
}

// String is the pid file format.
func (p PidRecord) String() string { return fmt.Sprintf("%d %d", p.Pid, p.StartTime) }

func parsePidRecord(s string) (PidRecord, error) {
	var p PidRecord
	_, err := fmt.Sscanf(strings.TrimSpace(s), "%d %d", &p.Pid, &p.StartTime)
	return p, err
}

// ReadPidRecord reads the pid file of a process dir.
func ReadPidRecord(dir string) (PidRecord, error) {
	data, err := os.ReadFile(filepath.Join(dir, "pid"))
	if err != nil {
		return PidRecord{}, err
	}
	return parsePidRecord(string(data))
}

// ProcessStartTime reads field 22 of /proc/PID/stat.
func ProcessStartTime(pid int) (uint64, error) {
	start, _, err := procStat(pid)
	return start, err
}

// procStat reads a process's start time and state letter from
// /proc/PID/stat.
func procStat(pid int) (start uint64, state byte, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, errors.New("malformed stat")
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return 0, 0, errors.New("malformed stat")
	}
	start, err = strconv.ParseUint(fields[19], 10, 64)
	return start, fields[0][0], err
}

// Alive reports whether the recorded process still exists (and is not a
// zombie waiting for its parent).
func (p PidRecord) Alive() bool {
	if p.Pid <= 0 {
		return false
	}
	start, state, err := procStat(p.Pid)
	return err == nil && start == p.StartTime && state != 'Z'
}

// Gone reports whether the recorded process has certainly ended: its
// /proc entry is missing, belongs to a newer process (another start time)
// or is a zombie. A /proc read that fails otherwise (EMFILE under load, a
// short read) says nothing: Gone is false, as a monitor must never be
// taken for dead, and its workload killed, on a guess.
func (p PidRecord) Gone() bool {
	if p.Pid <= 0 {
		return true
	}
	start, state, err := procStat(p.Pid)
	if err != nil {
		return errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH)
	}
	return start != p.StartTime || state == 'Z' || state == 'X'
}

// ErrorClass names the errdefs class of err, to carry it through a pipe or
// a file between processes (ClassedError restores it).
func ErrorClass(err error) string {
	switch {
	case errdefs.IsNotFound(err):
		return "not_found"
	case errdefs.IsAlreadyExists(err):
		return "already_exists"
	case errdefs.IsInvalidArgument(err):
		return "invalid_argument"
	case errdefs.IsFailedPrecondition(err):
		return "failed_precondition"
	case errdefs.IsUnavailable(err):
		return "unavailable"
	case errdefs.IsPermissionDenied(err):
		return "permission_denied"
	case errdefs.IsNotImplemented(err):
		return "not_implemented"
	}
	return ""
}

// ClassedError turns a message and the name ErrorClass gave back into an
// error of that errdefs class.
func ClassedError(class, msg string) error {
	cls := map[string]error{
		"not_found":           errdefs.ErrNotFound,
		"already_exists":      errdefs.ErrAlreadyExists,
		"invalid_argument":    errdefs.ErrInvalidArgument,
		"failed_precondition": errdefs.ErrFailedPrecondition,
		"unavailable":         errdefs.ErrUnavailable,
		"permission_denied":   errdefs.ErrPermissionDenied,
		"not_implemented":     errdefs.ErrNotImplemented,
	}[class]
	if cls == nil {
		return errors.New(msg)
	}
	return classedError{msg: msg, class: cls}
}

// classedError carries a message that already names its class.
type classedError struct {
	msg   string
	class error
}

func (e classedError) Error() string { return e.msg }
func (e classedError) Unwrap() error { return e.class }
