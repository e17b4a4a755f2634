package main

import "golang.org/x/sys/unix"

// kernelRelease is uname -r.
func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return unix.ByteSliceToString(u.Release[:])
}
