package freebsd

import (
	"path/filepath"
	"time"

	"github.com/rtd-project/rtd/kit/statestore"
)

// Record is what the driver remembers about one container, so that a
// restarted driver process finds its containers again.
type Record struct {
	ID          string
	Bundle      string
	Annotations map[string]string `json:",omitempty"`
	CreatedAt   time.Time
	// Pid is the host pid of the container's init process.
	Pid int `json:",omitempty"`
}

// store is the driver's state directory (kit/statestore), typed with this
// driver's Record.
type store struct{ statestore.Of[Record] }

func newStore(root string) store {
	return store{statestore.Of[Record]{Store: statestore.Store{Root: root}}}
}

// bundleDir is the bundle the driver hands to the runtime.
func (s store) bundleDir(id string) string { return filepath.Join(s.Dir(id), "bundle") }
