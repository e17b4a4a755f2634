//go:build !linux

package core

// unmountUnder has nothing to do where rtd mounts nothing on the host.
func unmountUnder(string) error { return nil }
