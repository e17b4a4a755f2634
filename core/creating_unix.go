//go:build unix

package core

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockCreating creates the marker at path and holds its flock until the
// returned file is closed (or the process dies, which is the point).
func lockCreating(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// creatingState tells whether the marker at path is held by a live process.
func creatingState(path string) markerState {
	f, err := os.Open(path)
	if err != nil {
		return markerNone
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		return markerHeld
	}
	return markerAbandoned
}
