//go:build !windows

package conformance

import (
	"syscall"

	"golang.org/x/sys/unix"
)

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }

func killPid(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

func hostUname() (release, version string) {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "", ""
	}
	return unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Version[:])
}
