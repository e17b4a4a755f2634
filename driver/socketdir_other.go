//go:build !unix

package driver

import "os"

// lockDir is not needed where go-plugin uses TCP (Windows): no socket dirs.
func lockDir(path string) (*os.File, error) { return os.Open(path) }

// dirUnlocked: without flock, no directory is taken for stale.
func dirUnlocked(string) bool { return false }
