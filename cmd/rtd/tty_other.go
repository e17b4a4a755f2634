//go:build !unix

package main

// onWindowChange has no window change signal to watch on this OS.
func onWindowChange(func()) (stop func()) { return func() {} }

// unblockFIFO has nothing to do: there are no FIFOs on this OS.
func unblockFIFO(string) {}
