package core

import (
	"fmt"

	"github.com/rtd-project/rtd/driver"
)

// Rename gives rec a new name, the one ps shows and commands accept. The
// id (the record's directory, the driver's container id, the cgroup) stays:
// rtd's drivers know a container only by id. A name that another container
// has as its id or name is AlreadyExists.
func (c *Core) Rename(rec *Record, name string) error {
	if err := driver.ValidateID("container name", name); err != nil {
		return err
	}
	unlock, err := c.lock()
	if err != nil {
		return fmt.Errorf("rename %s: %w", rec.ID, err)
	}
	defer unlock()
	recs, err := c.Records()
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.ID != rec.ID && (r.ID == name || r.Name == name) {
			return driver.AlreadyExistsf("rename %s: the name %q is already in use by container %s", rec.ID, name, r.ID)
		}
	}
	rec.Name = name
	return c.WriteRecord(rec)
}
