//go:build !linux

package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	fmt.Fprintf(os.Stderr, "rtd-runc: not supported on %s: runc's command line is a Linux interface\n", runtime.GOOS)
	os.Exit(1)
}
