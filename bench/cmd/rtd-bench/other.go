//go:build !linux

package main

import "fmt"

type options struct {
	n     int
	smoke bool
	bin   string
	out   string
}

func run(options) error { return fmt.Errorf("the benchmarks run on linux only") }
