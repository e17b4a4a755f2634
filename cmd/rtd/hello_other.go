//go:build !linux

package main

import "runtime"

// kernelRelease names the OS; the release is only read on Linux.
func kernelRelease() string { return "(" + runtime.GOOS + ", release not read)" }
