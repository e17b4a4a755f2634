//go:build !unix

package core

import "os"

// markerState is what a "creating" marker says about its creator.
type markerState int

const (
	markerNone      markerState = iota // no marker: the creation finished
	markerHeld                         // a live creator holds it
	markerAbandoned                    // its creator died
)

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
