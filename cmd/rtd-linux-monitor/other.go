//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "rtd-linux-monitor: the linux driver's monitor runs on linux only")
	os.Exit(2)
}
