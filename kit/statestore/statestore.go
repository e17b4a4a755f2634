package statestore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
)

// Store is the state directory of a driver.
type Store struct{ Root string }

// Dir is the directory of container id.
func (s Store) Dir(id string) string { return filepath.Join(s.Root, "containers", id) }

// Create reserves id and saves rec; AlreadyExists when id is taken,
// InvalidArgument when id is not a valid container id.
func (s Store) Create(id string, rec any) error {
	if err := driver.ValidateID("container id", id); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(s.Root, "containers"), 0o700); err != nil {
		return driver.Unavailablef("create %s: state dir: %v", id, err)
	}
	if err := os.Mkdir(s.Dir(id), 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return driver.AlreadyExistsf("create %s: a container with this id already exists", id)
		}
		return driver.Unavailablef("create %s: state dir: %v", id, err)
	}
	if err := s.Save(id, rec); err != nil {
		_ = os.RemoveAll(s.Dir(id))
		return err
	}
	return nil
}

// Save rewrites the record of id.
func (s Store) Save(id string, rec any) error {
	return atomicfile.WriteJSON(filepath.Join(s.Dir(id), "record.json"), rec, 0o600)
}

// Load reads the record of id into rec; an unknown id is NotFound.
func (s Store) Load(op, id string, rec any) error {
	if err := driver.ValidateID("container id", id); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := atomicfile.ReadJSON(filepath.Join(s.Dir(id), "record.json"), rec); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return driver.NotFoundf("%s %s: no such container", op, id)
		}
		return fmt.Errorf("%s %s: read record: %w", op, id, err)
	}
	return nil
}

// SaveExit records how the init process ended; the first status wins.
func (s Store) SaveExit(id string, e *driver.ExitStatus) error {
	if _, ok := s.Exit(id); ok {
		return nil
	}
	return atomicfile.WriteJSON(filepath.Join(s.Dir(id), "exit.json"), e, 0o600)
}

// Exit returns the recorded exit status, if any.
func (s Store) Exit(id string) (*driver.ExitStatus, bool) {
	var e driver.ExitStatus
	if err := atomicfile.ReadJSON(filepath.Join(s.Dir(id), "exit.json"), &e); err != nil {
		return nil, false
	}
	return &e, true
}

// Remove deletes everything kept for id.
func (s Store) Remove(id string) error {
	if err := os.RemoveAll(s.Dir(id)); err != nil {
		return fmt.Errorf("delete %s: remove record: %w", id, err)
	}
	return nil
}

// IDs lists the recorded containers, sorted.
func (s Store) IDs() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.Root, "containers"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && driver.ValidID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// Of is a Store whose records are of one type R, for a driver with one
// record type: Get returns a *R, the rest is Store's.
type Of[R any] struct{ Store }

// Get reads container id's record (Load): NotFound, naming op, for an
// unknown id.
func (s Of[R]) Get(op, id string) (*R, error) {
	var r R
	if err := s.Load(op, id, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
