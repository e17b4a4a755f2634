//go:build !unix

package core

import "os"

// lockCreating creates the marker; without flock on this OS a marker is
// never taken for abandoned.
func lockCreating(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}

// creatingState: without flock, a marker is taken to be held.
func creatingState(path string) markerState {
	if _, err := os.Stat(path); err != nil {
		return markerNone
	}
	return markerHeld
}
