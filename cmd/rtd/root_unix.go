//go:build unix

package main

import (
	"fmt"
	"os"
)

// requireRoot fails unless rtd runs as root: rootless containers are not
// supported yet.
func requireRoot(cmd string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s: must be run as root (rootless containers are not supported yet)", cmd)
	}
	return nil
}
