package core

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// Volume is a named volume: a directory under the root,
// <root>/volumes/<name>/_data, bind-mounted into the containers that use
// it. It outlives them: only `rtd volume rm` (or, for an anonymous volume,
// the removal of its `run --rm` container) removes it.
type Volume struct {
	Name       string    `json:"name"`
	Mountpoint string    `json:"mountpoint"`
	Created    time.Time `json:"created"`
	// Anonymous volumes are made by -v TARGET or --mount without a source;
	// their name is random and `run --rm` removes them with the container.
	Anonymous bool              `json:"anonymous,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	// UsedBy lists the containers whose spec mounts the volume (filled in
	// by Volumes and InspectVolume, not stored).
	UsedBy []string `json:"usedBy,omitempty"`
}

const volumeFile = "volume.json"

func (c *Core) volumesDir() string { return filepath.Join(c.root, "volumes") }

// VolumeDir is the directory of volume name (its data is in _data).
func (c *Core) VolumeDir(name string) string { return filepath.Join(c.volumesDir(), name) }

func (c *Core) volumeData(name string) string { return filepath.Join(c.VolumeDir(name), "_data") }

// ValidateVolumeName checks a volume name: 1-128 characters of
// [a-zA-Z0-9_.-] starting with a letter or digit; else InvalidArgument.
func ValidateVolumeName(name string) error { return driver.ValidateID("volume name", name) }

// CreateVolume creates volume name ("" gives it a random name). An
// existing volume is returned as it is, with created false.
func (c *Core) CreateVolume(name string, labels map[string]string) (v *Volume, created bool, err error) {
	return c.createVolume(name, labels, false)
}

// createVolume creates a volume; anonymous ones (-v TARGET) go with their
// `run --rm` container.
func (c *Core) createVolume(name string, labels map[string]string, anonymous bool) (v *Volume, created bool, err error) {
	if name == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, false, err
		}
		name = hex.EncodeToString(b)
	}
	if err := ValidateVolumeName(name); err != nil {
		return nil, false, err
	}
	unlock, err := c.lock()
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	if v, err := c.loadVolume(name); err == nil {
		return v, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if err := os.MkdirAll(c.volumesDir(), 0o700); err != nil {
		return nil, false, fmt.Errorf("create volume %s: %w", name, err)
	}
	// The data dir first, the metadata last: a volume without volume.json
	// is not a volume and a later create finishes it.
	if err := os.MkdirAll(c.volumeData(name), 0o755); err != nil {
		return nil, false, fmt.Errorf("create volume %s: %w", name, err)
	}
	v = &Volume{Name: name, Mountpoint: c.volumeData(name), Created: time.Now().UTC(), Anonymous: anonymous, Labels: labels}
	if err := atomicfile.WriteJSON(filepath.Join(c.VolumeDir(name), volumeFile), v, 0o600); err != nil {
		os.RemoveAll(c.VolumeDir(name))
		return nil, false, fmt.Errorf("create volume %s: %w", name, err)
	}
	return v, true, nil
}

func (c *Core) loadVolume(name string) (*Volume, error) {
	var v Volume
	if err := atomicfile.ReadJSON(filepath.Join(c.VolumeDir(name), volumeFile), &v); err != nil {
		return nil, err
	}
	v.Mountpoint = c.volumeData(name)
	return &v, nil
}

// InspectVolume returns volume name with the containers that use it;
// NotFound if there is none.
func (c *Core) InspectVolume(name string) (*Volume, error) {
	if err := ValidateVolumeName(name); err != nil {
		return nil, err
	}
	v, err := c.loadVolume(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, driver.NotFoundf("no such volume: %s", name)
	}
	if err != nil {
		return nil, fmt.Errorf("volume %s: %w", name, err)
	}
	v.UsedBy = c.volumeUsers()[name]
	return v, nil
}

// Volumes lists the volumes by name, with the containers that use them.
func (c *Core) Volumes() ([]*Volume, error) {
	entries, err := os.ReadDir(c.volumesDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	users := c.volumeUsers()
	var out []*Volume
	for _, e := range entries {
		v, err := c.loadVolume(e.Name())
		if err != nil {
			continue // half-created: not a volume yet
		}
		v.UsedBy = users[v.Name]
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemoveVolume removes volume name and its data. A volume a container
// uses (running or not) is refused, FailedPrecondition, as docker does;
// one that does not exist is NotFound.
func (c *Core) RemoveVolume(name string) error {
	if err := ValidateVolumeName(name); err != nil {
		return err
	}
	unlock, err := c.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := c.loadVolume(name); errors.Is(err, fs.ErrNotExist) {
		return driver.NotFoundf("remove volume %s: no such volume", name)
	}
	if users := c.volumeUsers()[name]; len(users) > 0 {
		return driver.FailedPreconditionf("remove volume %s: volume is in use by container %s; remove it first (rtd rm -f %s)",
			name, strings.Join(users, ", "), users[0])
	}
	return c.removeVolumeDir(name)
}

func (c *Core) removeVolumeDir(name string) error {
	dir := c.VolumeDir(name)
	// volume.json first: a volume half-removed is no longer listed.
	if err := os.Remove(filepath.Join(dir, volumeFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	return nil
}

// volumeUsers maps each volume name to the containers whose spec mounts
// it, from the bundles' config.json (what the drivers run).
func (c *Core) volumeUsers() map[string][]string {
	recs, _ := c.Records()
	users := map[string][]string{}
	for _, rec := range recs {
		for _, name := range c.volumesOfBundle(rec.Bundle) {
			users[name] = append(users[name], rec.ID)
		}
	}
	return users
}

// volumesOfBundle lists the volumes the bundle's spec mounts.
func (c *Core) volumesOfBundle(bundle string) []string {
	spec, err := ocispec.Load(bundle)
	if err != nil {
		return nil
	}
	prefix := c.volumesDir() + string(filepath.Separator)
	var names []string
	for _, m := range spec.Mounts {
		rest, ok := strings.CutPrefix(m.Source, prefix)
		if !ok {
			continue
		}
		name, sub, _ := strings.Cut(rest, string(filepath.Separator))
		if strings.HasPrefix(sub, "_data") {
			names = append(names, name)
		}
	}
	return names
}

// removeAnonymousVolumes removes the anonymous volumes among names that no
// container uses any more (after a `run --rm` container is removed, or
// when its create failed).
func (c *Core) removeAnonymousVolumes(names []string) {
	if len(names) == 0 {
		return
	}
	unlock, err := c.lock()
	if err != nil {
		c.logger.Warn("remove anonymous volumes", "error", err)
		return
	}
	defer unlock()
	users := c.volumeUsers()
	for _, name := range names {
		v, err := c.loadVolume(name)
		if err != nil || !v.Anonymous || len(users[name]) > 0 {
			continue
		}
		if err := c.removeVolumeDir(name); err != nil {
			c.logger.Warn("remove anonymous volume", "volume", name, "error", err)
		}
	}
}
