package windows

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/rtd-project/rtd/driver"
)

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// ValidateID refuses container ids that are not safe as a file name and an
// HCS compute system name.
func ValidateID(op, id string) error {
	if !idRE.MatchString(id) {
		return driver.InvalidArgumentf("%s %q: container id must be 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit", op, id)
	}
	return nil
}

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

// store keeps one directory per container under root: record.json and,
// once the init process ended, exit.json. Writes are atomic (rename).
type store struct{ root string }

func (s store) dir(id string) string { return filepath.Join(s.root, "containers", id) }

// create reserves id; it fails with AlreadyExists when id is taken.
func (s store) create(r *Record) error {
	if err := os.MkdirAll(filepath.Join(s.root, "containers"), 0o700); err != nil {
		return driver.Unavailablef("create %s: state dir: %v", r.ID, err)
	}
	if err := os.Mkdir(s.dir(r.ID), 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return driver.AlreadyExistsf("create %s: container", r.ID)
		}
		return driver.Unavailablef("create %s: state dir: %v", r.ID, err)
	}
	if err := s.save(r); err != nil {
		_ = os.RemoveAll(s.dir(r.ID))
		return err
	}
	return nil
}

func (s store) save(r *Record) error {
	return writeJSONAtomic(filepath.Join(s.dir(r.ID), "record.json"), r)
}

// load reads a container's record; an unknown id is NotFound.
func (s store) load(op, id string) (*Record, error) {
	if err := ValidateID(op, id); err != nil {
		return nil, err
	}
	var r Record
	if err := readJSON(filepath.Join(s.dir(id), "record.json"), &r); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, driver.NotFoundf("%s %s: container", op, id)
		}
		return nil, fmt.Errorf("%s %s: read record: %w", op, id, err)
	}
	return &r, nil
}

// saveExit records how the init process ended; the first status wins.
func (s store) saveExit(id string, e *driver.ExitStatus) error {
	if _, ok := s.exit(id); ok {
		return nil
	}
	return writeJSONAtomic(filepath.Join(s.dir(id), "exit.json"), e)
}

// exit returns the recorded exit status, if any.
func (s store) exit(id string) (*driver.ExitStatus, bool) {
	var e driver.ExitStatus
	if err := readJSON(filepath.Join(s.dir(id), "exit.json"), &e); err != nil {
		return nil, false
	}
	return &e, true
}

func (s store) remove(id string) error {
	if err := os.RemoveAll(s.dir(id)); err != nil {
		return fmt.Errorf("delete %s: remove record: %w", id, err)
	}
	return nil
}

// ids lists the recorded containers, sorted.
func (s store) ids() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, "containers"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && idRE.MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

func writeJSONAtomic(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
