package core

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
)

// Record is what the core remembers of one container, in
// <root>/containers/<id>/record.json.
type Record struct {
	ID         string `json:"id"`
	Name       string `json:"name,omitempty"`
	Driver     string `json:"driver"`
	DriverPath string `json:"driverPath"`
	// Isolation is the driver's class when the choice needed it.
	Isolation string `json:"isolation,omitempty"`
	// Selected says why this driver was chosen.
	Selected   string            `json:"selected,omitempty"`
	Bundle     string            `json:"bundle"`
	Image      string            `json:"image"`
	Command    []string          `json:"command"`
	Created    time.Time         `json:"created"`
	Labels     map[string]string `json:"labels,omitempty"`
	Detached   bool              `json:"detached"`
	Terminal   bool              `json:"terminal,omitempty"`
	LogPath    string            `json:"logPath,omitempty"`
	AutoRemove bool              `json:"autoRemove"`
}

const recordFile = "record.json"

// ValidateID checks a container id: 1-128 characters of [a-zA-Z0-9_.-], not
// starting with '.', '_' or '-'. Anything else is InvalidArgument.
func ValidateID(id string) error { return driver.ValidateID("container id", id) }

// NewID returns a random id of 12 hex characters.
func NewID() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// CreateRecord creates the record directory of rec.ID and writes rec into
// it, serialized with every other creation and removal under <root>/lock.
// An id already taken is AlreadyExists.
func (c *Core) CreateRecord(rec *Record) error {
	if err := ValidateID(rec.ID); err != nil {
		return err
	}
	if err := os.MkdirAll(c.containersDir(), 0o711); err != nil {
		return fmt.Errorf("create %s: %w", rec.ID, err)
	}
	unlock, err := c.lock()
	if err != nil {
		return fmt.Errorf("create %s: %w", rec.ID, err)
	}
	defer unlock()
	dir := c.ContainerDir(rec.ID)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return driver.AlreadyExistsf("container %q already exists", rec.ID)
		}
		return fmt.Errorf("create %s: %w", rec.ID, err)
	}
	if err := atomicfile.WriteJSON(filepath.Join(dir, recordFile), rec, 0o644); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("create %s: write record: %w", rec.ID, err)
	}
	return nil
}

// WriteRecord replaces the record of an existing container, atomically.
func (c *Core) WriteRecord(rec *Record) error {
	if err := ValidateID(rec.ID); err != nil {
		return err
	}
	if err := atomicfile.WriteJSON(filepath.Join(c.ContainerDir(rec.ID), recordFile), rec, 0o644); err != nil {
		return fmt.Errorf("update %s: write record: %w", rec.ID, err)
	}
	return nil
}

// LoadRecord reads the record of container id; an unknown id is NotFound.
func (c *Core) LoadRecord(id string) (*Record, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(c.ContainerDir(id), recordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, driver.NotFoundf("no such container: %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("container %s: read record: %w", id, err)
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("container %s: record %s is corrupt: %w", id, filepath.Join(c.ContainerDir(id), recordFile), err)
	}
	return &rec, nil
}

// RemoveRecord removes the record directory of container id (under the
// lock). Removing a record that is already gone is not an error.
func (c *Core) RemoveRecord(id string) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	unlock, err := c.lock()
	if err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	defer unlock()
	dir := c.ContainerDir(id)
	if err := unmountUnder(dir); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	return nil
}

// Records returns every readable record, oldest first. Directories without
// a readable record (being created, or corrupt) are skipped.
func (c *Core) Records() ([]*Record, error) {
	entries, err := os.ReadDir(c.containersDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var recs []*Record
	for _, e := range entries {
		if !e.IsDir() || ValidateID(e.Name()) != nil {
			continue
		}
		rec, err := c.LoadRecord(e.Name())
		if err != nil {
			c.logger.Debug("skipping unreadable record", "id", e.Name(), "error", err)
			continue
		}
		recs = append(recs, rec)
	}
	sort.Slice(recs, func(i, j int) bool {
		if !recs[i].Created.Equal(recs[j].Created) {
			return recs[i].Created.Before(recs[j].Created)
		}
		return recs[i].ID < recs[j].ID
	})
	return recs, nil
}

// Lookup finds a container by id, by name, or by a unique prefix of its id.
// An invalid reference is InvalidArgument, an unknown one NotFound, an
// ambiguous prefix InvalidArgument.
func (c *Core) Lookup(ref string) (*Record, error) {
	if err := ValidateID(ref); err != nil {
		return nil, err
	}
	rec, err := c.LoadRecord(ref)
	if err == nil || !errdefs.IsNotFound(err) {
		return rec, err
	}
	recs, err := c.Records()
	if err != nil {
		return nil, err
	}
	var matches []*Record
	for _, r := range recs {
		if r.Name == ref {
			return r, nil
		}
		if strings.HasPrefix(r.ID, ref) {
			matches = append(matches, r)
		}
	}
	switch len(matches) {
	case 0:
		return nil, driver.NotFoundf("no such container: %s", ref)
	case 1:
		return matches[0], nil
	}
	ids := make([]string, len(matches))
	for i, m := range matches {
		ids[i] = m.ID
	}
	return nil, driver.InvalidArgumentf("container reference %q is ambiguous: it matches %s", ref, strings.Join(ids, ", "))
}
