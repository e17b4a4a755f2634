//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "rtd-runc-bench: Linux only")
	os.Exit(1)
}
