//go:build !unix

package imagestore

import (
	"context"
	"sync"
)

var storeMu sync.Mutex

// lock serializes writers inside this process only, where flock is missing.
func (s *Store) lock(ctx context.Context) (func(), error) { return s.lockFile(ctx, "lock") }

// lockFile is lock.
func (s *Store) lockFile(context.Context, string) (func(), error) {
	storeMu.Lock()
	return storeMu.Unlock, nil
}
