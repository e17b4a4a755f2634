//go:build unix

package imagestore

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// lock takes the store's write lock (an flock on <root>/lock), waiting
// for other rtd processes until ctx is done.
func (s *Store) lock(ctx context.Context) (func(), error) { return s.lockFile(ctx, "lock") }

// lockFile takes an flock on <root>/NAME.
func (s *Store) lockFile(ctx context.Context, name string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(s.root, name), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, classify("lock image store", err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if err != unix.EWOULDBLOCK {
			f.Close()
			return nil, classify("lock image store", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
