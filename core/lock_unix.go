//go:build unix

package core

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lock takes the exclusive flock on <root>/lock and returns its release.
func (c *Core) lock() (func(), error) {
	if err := os.MkdirAll(c.root, 0o711); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(c.lockPath(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", c.lockPath(), err)
	}
	return func() {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}
