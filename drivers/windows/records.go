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

// store is the driver's state directory (kit/statestore), typed
// with this driver's Record.
type store struct{ root string }

func (s store) st() statestore.Store { return statestore.Store{Root: s.root} }

// create reserves id; it fails with AlreadyExists when id is taken.
func (s store) create(r *Record) error { return s.st().Create(r.ID, r) }

func (s store) save(r *Record) error { return s.st().Save(r.ID, r) }

// load reads a container's record; an unknown id is NotFound.
func (s store) load(op, id string) (*Record, error) {
	var r Record
	if err := s.st().Load(op, id, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// saveExit records how the init process ended; the first status wins.
func (s store) saveExit(id string, e *driver.ExitStatus) error { return s.st().SaveExit(id, e) }

// exit returns the recorded exit status, if any.
func (s store) exit(id string) (*driver.ExitStatus, bool) { return s.st().Exit(id) }

func (s store) remove(id string) error { return s.st().Remove(id) }

// ids lists the recorded containers, sorted.
func (s store) ids() ([]string, error) { return s.st().IDs() }
