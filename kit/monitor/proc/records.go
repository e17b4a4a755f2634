//go:build linux

package proc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/kit/atomicfile"
	"github.com/rtd-project/rtd/kit/monitor/watch"
)

// FormatVersion is the version of the records in a process dir
// (request.json, pid, monitor.pid, exit.json) that this code writes. A
// record without a version is version 0, written before versions existed,
// and is read as it is: a driver upgraded while its containers run finds
// them (TestReadsUnversionedRecords). A record of a newer version than
// FormatVersion is refused with an error naming both, never half-read.
const FormatVersion = watch.FormatVersion

// CheckVersion refuses a record written in a format newer than this code.
func CheckVersion(path string, version int) error {
	if version > FormatVersion {
		return fmt.Errorf("%s: record format %d is newer than this driver's %d: run the rtd that wrote it, or upgrade: %w",
			path, version, FormatVersion, errdefs.ErrFailedPrecondition)
	}
	return nil
}

// RequestFile is the name of a process dir's request record.
const RequestFile = "request.json"

// WriteRequest writes r to dir/request.json, stamped with FormatVersion.
func WriteRequest(dir string, r Request) error {
	r.Version = FormatVersion
	return atomicfile.WriteJSON(filepath.Join(dir, RequestFile), r, 0o600)
}

// ReadRequest reads dir/request.json, of this format or an older one.
func ReadRequest(dir string) (Request, error) {
	var r Request
	path := filepath.Join(dir, RequestFile)
	if err := atomicfile.ReadJSON(path, &r); err != nil {
		return Request{}, err
	}
	return r, CheckVersion(path, r.Version)
}

// PidRecord identifies a process across pid reuse: pid plus start time.
type PidRecord struct {
	// Version is the record format (FormatVersion; 0 before it existed).
	Version   int `json:",omitempty"`
	Pid       int
	StartTime uint64
}

// String names the process for messages.
func (p PidRecord) String() string { return fmt.Sprintf("pid %d (start time %d)", p.Pid, p.StartTime) }

// ParsePidRecord reads a pid record in any format rtd wrote: the JSON
// of today ({"Version":1,"Pid":...,"StartTime":...}), the unversioned JSON
// of the vm driver before the kit, and the text "PID STARTTIME" of the
// monitors before the kit.
func ParsePidRecord(data []byte) (PidRecord, error) {
	var p PidRecord
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		if err := json.Unmarshal(data, &p); err != nil {
			return PidRecord{}, err
		}
		return p, nil
	}
	if _, err := fmt.Sscanf(string(data), "%d %d", &p.Pid, &p.StartTime); err != nil {
		return PidRecord{}, fmt.Errorf("malformed pid record %q: %w", data, err)
	}
	return p, nil
}

// ReadPidFile reads the pid record at path.
func ReadPidFile(path string) (PidRecord, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return PidRecord{}, err
	}
	p, err := ParsePidRecord(data)
	if err != nil {
		return PidRecord{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, CheckVersion(path, p.Version)
}

// WritePidFile records process pid (with its start time) at path.
func WritePidFile(path string, pid int) error {
	st, err := ProcessStartTime(pid)
	if err != nil {
		return err
	}
	return atomicfile.WriteJSON(path, PidRecord{Version: FormatVersion, Pid: pid, StartTime: st}, 0o600)
}

// PidFile is the name of a process dir's workload pid record.
const PidFile = "pid"

// ReadPidRecord reads the workload's pid record of a process dir.
func ReadPidRecord(dir string) (PidRecord, error) { return ReadPidFile(filepath.Join(dir, PidFile)) }

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
