//go:build unix

package driver

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockDir takes an exclusive flock on directory path, held until the
// returned file is closed or this process dies.
func lockDir(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// dirUnlocked reports whether nobody holds the flock of directory path.
func dirUnlocked(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil
}
