//go:build freebsd

package freebsd

import (
	"os"

	"golang.org/x/sys/unix"
)

// maxSignal is the highest signal number kill(2) takes on FreeBSD
// (_SIG_MAXSIG).
const maxSignal = 128

// procctl(2) constants from <sys/procctl.h> and <sys/wait.h>, which
// golang.org/x/sys/unix does not define (it has SYS_PROCCTL only).
const (
	idtypePID       = 0 // P_PID
	procReapAcquire = 2 // PROC_REAP_ACQUIRE
)

// becomeSubreaper makes this process the reaper of its descendants, so that
// a container's init (runj-entrypoint, orphaned when `runj create` exits)
// becomes its child and its exit status can be read.
func becomeSubreaper() error {
	_, _, errno := unix.Syscall6(unix.SYS_PROCCTL, idtypePID, uintptr(os.Getpid()), procReapAcquire, 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
