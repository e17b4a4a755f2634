//go:build linux

package proc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// MonitorPidFile in a process dir holds the monitor's own pid and start
// time, written by the monitor itself before it starts the workload, so
// that a monitor that dies is always recognised as dead (never a bare pid).
const MonitorPidFile = "monitor.pid"

// LockDir takes the exclusive flock on a process dir and returns its
// release. A monitor holds it from its start until its workload is
// registered (pid file written, control socket listening) or cleaned up; a
// driver's Delete takes it too, so that it never sees a half-registered
// workload. It polls until ctx is done. A dir that does not exist is
// os.ErrNotExist.
func LockDir(ctx context.Context, dir string) (func(), error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Close(fd) }, nil
		}
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			unix.Close(fd)
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		select {
		case <-ctx.Done():
			unix.Close(fd)
			return nil, fmt.Errorf("lock %s: %w", dir, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// ReadMonitorPid reads the monitor.pid record of a process dir.
func ReadMonitorPid(dir string) (PidRecord, error) {
	return ReadPidFile(filepath.Join(dir, MonitorPidFile))
}

// writeSelfPid writes this process's pid record to dir/monitor.pid, whole
// (atomicfile: an empty monitor.pid read while the monitor lives would
// otherwise pass for a dead monitor).
func writeSelfPid(dir string) error {
	return WritePidFile(filepath.Join(dir, MonitorPidFile), os.Getpid())
}

// KillRecorded sends SIGKILL to the recorded process through a pidfd
// opened after checking its start time, so a reused pid is never hit. It
// returns false when the process was already gone.
func KillRecorded(rec PidRecord) bool {
	if rec.Pid <= 0 {
		return false
	}
	pidfd, err := unix.PidfdOpen(rec.Pid, 0)
	if err != nil {
		return false
	}
	defer unix.Close(pidfd)
	// The pidfd pins the process: checked now, it is the recorded one.
	if !rec.Alive() {
		return false
	}
	return unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0) == nil
}
