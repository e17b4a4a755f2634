package windows

import (
	"time"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/statestore"
)

// Record is what the driver remembers about one container, so that a
// restarted driver process finds its containers again.
type Record struct {
	ID          string
	Bundle      string
	Annotations map[string]string `json:",omitempty"`
	CreatedAt   time.Time
	HyperV      bool
	Stdio       driver.Stdio
	// Process is the init process, translated at Create: later changes to
	// config.json have no effect.
	Process *ProcessConfig
	// Started is set once the init process was created; Pid is its pid.
	Started bool
	Pid     uint32 `json:",omitempty"`
	// ScratchLayer is the scratch folder the driver activated and prepared
	// itself (process isolation without root.path); Delete undoes it.
	ScratchLayer string `json:",omitempty"`
}

// store is the driver's state directory (kit/statestore), typed with this
// driver's Record.
type store struct{ statestore.Of[Record] }

func newStore(root string) store {
	return store{statestore.Of[Record]{Store: statestore.Store{Root: root}}}
}
