// Package statestore keeps a driver's per-container records on disk, for
// drivers whose processes must find their containers again after a restart
// and that cannot use internal/monitor (Windows, FreeBSD): one directory
// per container under ROOT/containers holding record.json and, once the
// init process ended, exit.json. Writes are atomic (temporary file, fsync,
// rename). It is portable.
package statestore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/rtd-project/rtd/driver"
)

// ValidateID refuses container ids that are not safe as a file name.
func ValidateID(op, id string) error {
	if !driver.ValidID(id) {
		return driver.InvalidArgumentf("%s %q: container id must be 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit", op, id)
	}
	return nil
}

// Store is the state directory of a driver.
type Store struct{ Root string }

// Dir is the directory of container id.
func (s Store) Dir(id string) string { return filepath.Join(s.Root, "containers", id) }

// Create reserves id and saves rec; AlreadyExists when id is taken.
func (s Store) Create(id string, rec any) error {
	if err := os.MkdirAll(filepath.Join(s.Root, "containers"), 0o700); err != nil {
		return driver.Unavailablef("create %s: state dir: %v", id, err)
	}
	if err := os.Mkdir(s.Dir(id), 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return driver.AlreadyExistsf("create %s: container", id)
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
	return WriteJSONAtomic(filepath.Join(s.Dir(id), "record.json"), rec)
}

// Load reads the record of id into rec; an unknown id is NotFound.
func (s Store) Load(op, id string, rec any) error {
	if err := ValidateID(op, id); err != nil {
		return err
	}
	if err := ReadJSON(filepath.Join(s.Dir(id), "record.json"), rec); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return driver.NotFoundf("%s %s: container", op, id)
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
	return WriteJSONAtomic(filepath.Join(s.Dir(id), "exit.json"), e)
}

// Exit returns the recorded exit status, if any.
func (s Store) Exit(id string) (*driver.ExitStatus, bool) {
	var e driver.ExitStatus
	if err := ReadJSON(filepath.Join(s.Dir(id), "exit.json"), &e); err != nil {
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

// ReadJSON reads JSON from path into v.
func ReadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// WriteJSONAtomic writes v as JSON to path through a synced temporary file.
func WriteJSONAtomic(path string, v any) error {
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
