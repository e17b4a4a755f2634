//go:build linux

package watch

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/kit/atomicfile"
)

// FormatVersion is the version of the records in a process dir
// (proc.FormatVersion): 1 added it to every record; records without one
// are version 0 and read the same.
const FormatVersion = 1

// ExitRecord is exit.json: the exit status and the record's format
// version, in one JSON object ({"Version":1,"Code":0,...}), so that a
// reader of the unversioned exit.json of before reads it too.
type ExitRecord struct {
	Version int `json:",omitempty"`
	ExitStatus
}

// exitReserveSize is the room reserved for exit.json when a watch starts
// (an exit status is a few hundred bytes; a reason a few more).
const exitReserveSize = 4096

// exitReserveFile holds the reserved room until it becomes exit.json.
const exitReserveFile = ".exit.json.reserve"

// retryWrite is how often a monitor retries writing an exit status the
// disk refused, while it keeps the status in memory for its control socket.
const retryWrite = 100 * time.Millisecond

// ReserveExit allocates room for exit.json in dir before the workload can
// fill the disk: a full root must not cost the exit status. The monitor
// calls it before it reports the workload started; the watch again if the
// room is missing.
func ReserveExit(dir string) {
	path := filepath.Join(dir, exitReserveFile)
	if fi, err := os.Stat(path); err == nil && fi.Size() >= exitReserveSize {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		fmt.Fprintf(os.Stderr, "reserve room for the exit status: %v\n", err)
		return
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), 0, 0, exitReserveSize); err == nil {
		return
	}
	// No fallocate (some filesystems): write the bytes instead.
	if _, err := f.Write(make([]byte, exitReserveSize)); err != nil {
		fmt.Fprintf(os.Stderr, "reserve room for the exit status: %v\n", err)
		f.Close()
		os.Remove(path)
	}
}

// writeExit writes the exit status to dir/exit.json, into the room
// ReserveExit kept when there is one (overwriting allocated blocks and
// shrinking the file need no new space), else through atomicfile.
func writeExit(dir string, st ExitStatus) error {
	data, err := json.Marshal(ExitRecord{Version: FormatVersion, ExitStatus: st})
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "exit.json")
	reserve := filepath.Join(dir, exitReserveFile)
	if len(data) <= exitReserveSize {
		if f, err := os.OpenFile(reserve, os.O_WRONLY, 0); err == nil {
			_, werr := f.WriteAt(data, 0)
			if werr == nil {
				werr = f.Truncate(int64(len(data)))
			}
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr == nil {
				return os.Rename(reserve, path)
			}
		}
	}
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	os.Remove(reserve)
	return nil
}

// WriteExit writes an exit status to dir/exit.json as the watch does: into
// the room ReserveExit kept. For monitors that are not a watch (the vm
// driver's QEMU monitor).
func WriteExit(dir string, st ExitStatus) error { return writeExit(dir, st) }

// RetryInterval is how often a monitor that could not write an exit status
// retries while it keeps it in memory.
const RetryInterval = retryWrite
