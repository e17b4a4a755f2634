package core

import (
	"context"
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
	// Version is the record's format (RecordVersion when written; 0 in
	// records written before formats had versions).
	Version    int    `json:"version,omitempty"`
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
	// Network is the container's network (none: the spec's own).
	Network *NetworkInfo `json:"network,omitempty"`
	// ImageDigest and Snapshot name the store image the container runs
	// and its unpacked root: rmi and prune keep them while it exists.
	ImageDigest string `json:"imageDigest,omitempty"`
	Snapshot    string `json:"snapshot,omitempty"`
	// StopSignal and StopTimeout are what stop sends first and how long it
	// waits before SIGKILL; empty and nil mean SIGTERM and 10 seconds.
	StopSignal  string         `json:"stopSignal,omitempty"`
	StopTimeout *time.Duration `json:"stopTimeout,omitempty"`
	// Pod is the pod the container was created in (its sandbox on the
	// driver), "" for none.
	Pod string `json:"pod,omitempty"`
	// LogAttrs are the labels and environment variables --log-opt chose
	// for the log (rtd logs --details).
	LogAttrs map[string]string `json:"logAttrs,omitempty"`
}

const recordFile = "record.json"

// RecordVersion is the format of record.json that this code writes. A
// record of an older format is read as it is (version 0, before versions
// existed, has the same fields), so rtd can be upgraded while containers
// run (TestLoadsRecordOfPreviousFormat); a record of a newer format is
// refused with FailedPrecondition naming both versions, never half-read.
// Raise it when a field changes meaning, and teach LoadRecord the old one.
const RecordVersion = 1

// writeRecordFile writes rec, stamped with RecordVersion, to path.
func writeRecordFile(path string, rec *Record) error {
	rec.Version = RecordVersion
	return atomicfile.WriteJSON(path, rec, 0o600)
}

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
// The directory appears whole: it is built under a hidden temporary name
// and renamed into place, so a creator killed half-way leaves no directory
// without a record (its temporary is removed by the next creation or
// listing). It carries a "creating" marker its creator holds locked until
// FinishCreating: a container whose creator died before the driver made it
// is reclaimed (ReclaimAbandoned). An id already taken is AlreadyExists.
func (c *Core) CreateRecord(rec *Record) (retErr error) {
	if err := ValidateID(rec.ID); err != nil {
		return err
	}
	if err := os.MkdirAll(c.containersDir(), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", rec.ID, err)
	}
	unlock, err := c.lock()
	if err != nil {
		return fmt.Errorf("create %s: %w", rec.ID, err)
	}
	defer unlock()
	c.removeTemporaries()
	dir := c.ContainerDir(rec.ID)
	if _, err := os.Lstat(dir); err == nil {
		return driver.AlreadyExistsf("container %q already exists", rec.ID)
	}
	tmp, err := os.MkdirTemp(c.containersDir(), tmpRecordPrefix+rec.ID+"-")
	if err != nil {
		return fmt.Errorf("create %s: %w", rec.ID, err)
	}
	defer func() {
		if retErr != nil {
			os.RemoveAll(tmp)
		}
	}()
	marker, err := lockCreating(filepath.Join(tmp, creatingFile))
	if err != nil {
		return fmt.Errorf("create %s: %w", rec.ID, err)
	}
	if err := writeRecordFile(filepath.Join(tmp, recordFile), rec); err != nil {
		marker.Close()
		return fmt.Errorf("create %s: write record: %w", rec.ID, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		marker.Close()
		return fmt.Errorf("create %s: %w", rec.ID, err)
	}
	c.mu.Lock()
	c.creating[rec.ID] = marker
	c.mu.Unlock()
	return nil
}

// FinishCreating ends the creation of rec.ID: the "creating" marker is
// removed and its lock released. Create calls it once the driver answered.
func (c *Core) FinishCreating(id string) {
	c.mu.Lock()
	marker := c.creating[id]
	delete(c.creating, id)
	c.mu.Unlock()
	if marker != nil {
		os.Remove(filepath.Join(c.ContainerDir(id), creatingFile))
		marker.Close()
	}
}

// Creating reports whether rec is still being created by a live rtd.
func (c *Core) Creating(rec *Record) bool {
	state := creatingState(filepath.Join(c.ContainerDir(rec.ID), creatingFile))
	return state == markerHeld
}

// ReclaimAbandoned removes what creators that died left: hidden temporary
// record directories, record directories without a record (older rtd
// versions), and containers whose creator died before it finished (removed
// on their driver too, with force). It returns the ids it reclaimed.
func (c *Core) ReclaimAbandoned(ctx context.Context) []string {
	entries, err := os.ReadDir(c.containersDir())
	if err != nil {
		return nil
	}
	var abandoned []string
	var temporaries bool
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpRecordPrefix) {
			temporaries = true
			continue
		}
		if !e.IsDir() || ValidateID(e.Name()) != nil {
			continue
		}
		dir := c.ContainerDir(e.Name())
		if _, err := os.Stat(filepath.Join(dir, recordFile)); errors.Is(err, fs.ErrNotExist) {
			temporaries = true
			continue
		}
		if creatingState(filepath.Join(dir, creatingFile)) == markerAbandoned {
			abandoned = append(abandoned, e.Name())
		}
	}
	if temporaries {
		if unlock, err := c.lock(); err == nil {
			c.removeTemporaries()
			for _, e := range entries {
				dir := c.ContainerDir(e.Name())
				if ValidateID(e.Name()) != nil {
					continue
				}
				if _, err := os.Stat(filepath.Join(dir, recordFile)); errors.Is(err, fs.ErrNotExist) {
					c.logger.Warn("removing a record directory without a record", "dir", dir)
					os.RemoveAll(dir)
				}
			}
			unlock()
		}
	}
	var reclaimed []string
	for _, id := range abandoned {
		rec, err := c.LoadRecord(id)
		if err != nil || creatingState(filepath.Join(c.ContainerDir(id), creatingFile)) != markerAbandoned {
			continue
		}
		c.logger.Warn("removing a container whose creator died before it was created", "id", id)
		if err := c.Remove(ctx, rec, true); err != nil {
			c.logger.Warn("reclaim abandoned container", "id", id, "error", err)
			continue
		}
		reclaimed = append(reclaimed, id)
	}
	return reclaimed
}

// removeTemporaries removes the hidden temporary record directories, which
// only a creator that died leaves: called under the lock, which every
// creator holds while its temporary exists.
func (c *Core) removeTemporaries() {
	entries, _ := os.ReadDir(c.containersDir())
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpRecordPrefix) {
			os.RemoveAll(filepath.Join(c.containersDir(), e.Name()))
		}
	}
}

const (
	// tmpRecordPrefix names a record directory being built.
	tmpRecordPrefix = ".new-"
	// creatingFile in a record directory is locked by its creator until
	// the driver created the container.
	creatingFile = "creating"
)

// WriteRecord replaces the record of an existing container, atomically.
func (c *Core) WriteRecord(rec *Record) error {
	if err := ValidateID(rec.ID); err != nil {
		return err
	}
	if err := writeRecordFile(filepath.Join(c.ContainerDir(rec.ID), recordFile), rec); err != nil {
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
	if rec.Version > RecordVersion {
		return nil, fmt.Errorf("container %s: record format %d is newer than this rtd's %d: run the rtd that wrote it, or upgrade: %w",
			id, rec.Version, RecordVersion, errdefs.ErrFailedPrecondition)
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

// Lookup finds a container by id, by name, or by a unique prefix of a
// generated id. Names match exactly, as docker's do: a named container's id
// is its name, and no prefix of it finds it (rm -f web never removes web1).
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
		if r.Name == "" && strings.HasPrefix(r.ID, ref) {
			matches = append(matches, r)
		}
	}
	switch len(matches) {
	case 0:
		return nil, driver.NotFoundf("no such container: %s (see rtd ps -a)", ref)
	case 1:
		return matches[0], nil
	}
	ids := make([]string, len(matches))
	for i, m := range matches {
		ids[i] = m.ID
	}
	return nil, driver.InvalidArgumentf("container reference %q is ambiguous: it matches %s", ref, strings.Join(ids, ", "))
}
