//go:build unix

package core

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/rtd-project/rtd/driver"
)

// checkRootOwnership refuses a root another user could have written, as
// sshd (StrictModes) and sudo refuse files others can change: rtd executes
// the driver path a record names, so whoever can write the root can run
// code as the user of rtd (root). The root, its subdirectories rtd reads
// from (containers, drivers, sock) and every parent directory up to / must
// be owned by the invoking user or by root and not be writable by group or
// others. A parent that is writable by others but sticky (/tmp: mode 1777,
// owned by root) passes: there, only an entry's owner can rename or remove
// it, so the root that the user owns in it cannot be swapped. A root that
// does not exist yet is checked from its nearest existing parent (rtd
// creates the rest). The refusal is PermissionDenied and says what to do.
func checkRootOwnership(root string) error {
	uid := os.Geteuid()
	path, missing := root, false
	for {
		resolved, err := filepath.EvalSymlinks(path)
		if err == nil {
			path = resolved
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(path) == path {
			return driver.PermissionDeniedf("root %s: %v", root, err)
		}
		path, missing = filepath.Dir(path), true
	}
	if !missing {
		for _, sub := range []string{"", "containers", "drivers", "sock"} {
			p := filepath.Join(path, sub)
			fi, err := os.Lstat(p)
			if sub != "" && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return driver.PermissionDeniedf("root %s: %v", root, err)
			}
			what := "rtd's root"
			if sub != "" {
				what = "in rtd's root"
			}
			if err := checkOwner(root, p, what, fi, uid, false); err != nil {
				return err
			}
		}
		path = filepath.Dir(path)
	}
	for {
		fi, err := os.Stat(path)
		if err != nil {
			return driver.PermissionDeniedf("root %s: %v", root, err)
		}
		if err := checkOwner(root, path, "a parent of rtd's root", fi, uid, true); err != nil {
			return err
		}
		parent := filepath.Dir(path)
		if parent == path {
			return nil
		}
		path = parent
	}
}

// checkOwner checks one directory or file of the root's chain; sticky
// allows a sticky directory writable by others (a parent such as /tmp).
func checkOwner(root, path, what string, fi fs.FileInfo, uid int, sticky bool) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if owner := int(st.Uid); owner != uid && owner != 0 {
		return driver.PermissionDeniedf("root %s: %s (%s) is owned by uid %d, not by you (uid %d) or root: its owner could make rtd run any program; use a root you own (--root or $%s) or chown it",
			root, path, what, owner, uid, RootEnv)
	}
	mode := fi.Mode()
	if mode.Perm()&0o022 != 0 && !(sticky && mode.IsDir() && mode&fs.ModeSticky != 0) {
		return driver.PermissionDeniedf("root %s: %s (%s) is writable by group or others (mode %04o): they could make rtd run any program; chmod go-w %s",
			root, path, what, mode.Perm(), path)
	}
	return nil
}

// checkRecordOwnership checks a record's directory and file like the root
// (one that is gone already has nothing to trust).
func checkRecordOwnership(root, dir string) error {
	uid := os.Geteuid()
	for _, p := range []string{dir, filepath.Join(dir, recordFile)} {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("record %s: %w", p, err)
		}
		if err := checkOwner(root, p, "a container's record", fi, uid, false); err != nil {
			return err
		}
	}
	return nil
}
