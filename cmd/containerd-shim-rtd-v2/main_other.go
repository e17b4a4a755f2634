//go:build !linux

// Command containerd-shim-rtd-v2 is containerd's runtime v2 shim for rtd;
// it runs on Linux only.
package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	fmt.Fprintf(os.Stderr, "containerd-shim-rtd-v2: not supported on %s (Linux only)\n", runtime.GOOS)
	os.Exit(1)
}
