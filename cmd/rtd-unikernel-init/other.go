//go:build !linux

package main

import (
	"fmt"
	"os"
)

func run() {
	fmt.Fprintln(os.Stderr, "rtd-unikernel-init runs as the init of a Linux guest only")
	os.Exit(1)
}
