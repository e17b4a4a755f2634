package core

// markerState is what a "creating" marker says about its creator: how
// the marker is made and read is per OS (creating_unix.go, with flock;
// creating_other.go, without).
type markerState int

const (
	markerNone      markerState = iota // no marker: the creation finished
	markerHeld                         // a live creator holds it
	markerAbandoned                    // its creator died
)
