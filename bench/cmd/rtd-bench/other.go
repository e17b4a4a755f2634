//go:build !linux

package main

import "fmt"

// runAll: the benchmarks need Linux containers.
func runAll(options) error { return fmt.Errorf("the benchmarks run on linux only") }

// serveEcho: only the Linux runner uses it.
func serveEcho(string) error { return fmt.Errorf("the benchmarks run on linux only") }

// serveVerbs: only the Linux runner uses it.
func serveVerbs(string) error { return fmt.Errorf("the benchmarks run on linux only") }

// serveCPU: only the Linux runner uses it.
func serveCPU(string) error { return fmt.Errorf("the benchmarks run on linux only") }
