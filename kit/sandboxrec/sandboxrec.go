package sandboxrec

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

// RecordName is the record's file name in a sandbox's directory.
const RecordName = "sandbox.json"

// Lock takes the sandbox's lock (an flock on DIR/ID.lock, created with DIR
// when missing) and returns its release.
func Lock(dir, id string) (func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, id)+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// Read decodes the record of sandbox id; op names the call in errors. No
// record is NotFound; an invalid id InvalidArgument.
func Read[R any](dir, op, id string) (*R, error) {
	if err := driver.ValidateID("sandbox id", id); err != nil {
		return nil, err
	}
	var r R
	err := atomicfile.ReadJSON(filepath.Join(dir, id, RecordName), &r)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, driver.NotFoundf("%s %s: no such sandbox", op, id)
	case err != nil:
		return nil, fmt.Errorf("%s %s: sandbox record unreadable: %w", op, id, err)
	}
	return &r, nil
}

// Write replaces the record of sandbox id with r.
func Write(dir, id string, r any) error {
	return atomicfile.WriteJSON(filepath.Join(dir, id, RecordName), r, 0o600)
}

// Members returns the containers marked in sandbox id's members/ that are
// not gone (gone reports a container deleted since), sorted; the marks of
// gone ones are removed.
func Members(dir, id string, gone func(container string) bool) []string {
	mdir := filepath.Join(dir, id, "members")
	entries, _ := os.ReadDir(mdir)
	var out []string
	for _, e := range entries {
		if gone(e.Name()) {
			os.Remove(filepath.Join(mdir, e.Name()))
			continue
		}
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// List reads every sandbox record under dir and returns view of each,
// oldest first; records that cannot be read are left out.
func List[R any](dir string, view func(*R) *driver.Sandbox) ([]*driver.Sandbox, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var out []*driver.Sandbox
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if r, err := Read[R](dir, "list sandboxes", e.Name()); err == nil {
			out = append(out, view(r))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}
