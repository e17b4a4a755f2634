package vm

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
)

// The state directory of the driver:
//
//	<state>/c/<id>/                 one container: its VM, monitor and records
//	<state>/c/<id>/exec/<exec-id>/  exit.json of an exec'd process
//	<state>/s/<hash>.sock           monitor sockets (short paths)
//	<state>/initramfs/<hash>.cpio   initramfs images, by content hash
//	<state>/accel.json              the accelerator probe's answer
//
// A container dir holds request.json (what the monitor runs), monitor.pid and
// qemu.pid (pid and start time), exit.json (written once), monitor.log,
// console.log (the guest's serial console) and, while the VM runs, the disk
// images it boots with.

func validateID(kind, id string) error { return driver.ValidateID(kind, id) }

type layout struct{ root string }

func (l layout) containersDir() string         { return filepath.Join(l.root, "c") }
func (l layout) containerDir(id string) string { return filepath.Join(l.root, "c", id) }
func (l layout) initramfsDir() string          { return filepath.Join(l.root, "initramfs") }
func (l layout) accelFile() string             { return filepath.Join(l.root, "accel.json") }

func (l layout) execDir(id, execID string) string {
	return filepath.Join(l.containerDir(id), "exec", execID)
}

// socketPath is short on purpose: unix socket paths are limited to 108 bytes.
func (l layout) socketPath(id string) string {
	sum := sha256.Sum256([]byte(id))
	return filepath.Join(l.root, "s", hex.EncodeToString(sum[:8])+".sock")
}

// request is what a monitor runs; the driver writes it to request.json in
// the container dir before starting the monitor.
type request struct {
	ID          string
	Bundle      string
	Annotations map[string]string `json:",omitempty"`
	Stdio       driver.Stdio
	CreatedAt   int64 // unix nanoseconds
}

func writeJSONAtomic(path string, v any) error { return atomicfile.WriteJSON(path, v, 0o600) }

func readJSON(path string, v any) error { return atomicfile.ReadJSON(path, v) }

// readExit returns the exit status recorded in dir, nil if none.
func readExit(dir string) *driver.ExitStatus {
	var st driver.ExitStatus
	if err := readJSON(filepath.Join(dir, "exit.json"), &st); err != nil {
		return nil
	}
	return &st
}

// pidRecord identifies a process across pid reuse: pid plus start time.
type pidRecord struct {
	Pid       int
	StartTime uint64
}

func recordPid(path string, pid int) error {
	st, err := processStartTime(pid)
	if err != nil {
		return err
	}
	return writeJSONAtomic(path, pidRecord{Pid: pid, StartTime: st})
}

func readPidRecord(path string) (pidRecord, error) {
	var p pidRecord
	err := readJSON(path, &p)
	return p, err
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

// alive reports whether the recorded process still exists and is not a
// zombie.
func (p pidRecord) alive() bool {
	if p.Pid <= 0 {
		return false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(p.Pid) + "/stat")
	if err != nil {
		return false
	}
	st, err := processStartTime(p.Pid)
	if err != nil || st != p.StartTime {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || len(s) < i+3 || s[i+2] != 'Z'
}

func (p pidRecord) String() string { return fmt.Sprintf("pid %d", p.Pid) }
