//go:build unix

package main

import "golang.org/x/sys/unix"

// signalNumber is the number of a signal name on this OS; 0 if unknown.
func signalNumber(name string) uint32 { return uint32(unix.SignalNum(name)) }
