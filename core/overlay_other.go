//go:build !linux

package core

// overlaySupported says whether mountOverlay works here.
const overlaySupported = false

// mountOverlay is Linux only.
func mountOverlay(lower, _ string) (string, error) { return lower, nil }
