//go:build !linux && !freebsd

package main

import (
	"fmt"
	"os"
)

// runInit is rtd's --init, which needs a Unix process model.
func runInit([]string) int {
	fmt.Fprintln(os.Stderr, "rtd-init: not supported on this OS")
	return exitRtdError
}
