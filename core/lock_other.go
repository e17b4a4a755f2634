//go:build !unix

package core

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// lock takes <root>/lock by creating it exclusively (no flock on this OS)
// and returns its release. A lock file older than a minute is stale.
func (c *Core) lock() (func(), error) {
	if err := os.MkdirAll(c.root, 0o711); err != nil {
		return nil, err
	}
	path := c.lockPath() + ".excl"
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if fi, serr := os.Stat(path); serr == nil && time.Since(fi.ModTime()) > time.Minute {
			os.Remove(path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
