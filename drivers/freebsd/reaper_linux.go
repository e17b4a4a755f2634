//go:build linux

package freebsd

import "golang.org/x/sys/unix"

// maxSignal is the highest signal number kill(2) takes here.
const maxSignal = 64

// becomeSubreaper makes orphaned descendants (a container's init once the
// runtime's create command exits) children of this process. The Linux
// build exists for the engine's tests against runc.
func becomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}
