//go:build unix

package core

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func mkdirMode(t *testing.T, path string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckRoot(t *testing.T) {
	base := t.TempDir()
	open := mkdirMode(t, filepath.Join(base, "open"), 0o777)
	sticky := mkdirMode(t, filepath.Join(base, "sticky"), 0o777|os.ModeSticky)
	for _, c := range []struct {
		name, root, want string
	}{
		{"a root of ours under /tmp (sticky)", mkdirMode(t, filepath.Join(base, "ok"), 0o711), ""},
		{"a root in a sticky directory", mkdirMode(t, filepath.Join(sticky, "root"), 0o700), ""},
		{"a missing root in a sticky directory", filepath.Join(sticky, "later", "root"), ""},
		{"a root in a directory anyone can write", mkdirMode(t, filepath.Join(open, "root"), 0o700), "is writable by group or others (mode 0777)"},
		{"a missing root in a directory anyone can write", filepath.Join(open, "later"), "is writable by group or others"},
		{"a group-writable root", mkdirMode(t, filepath.Join(base, "gw"), 0o770), "chmod go-w " + filepath.Join(base, "gw")},
		{"a group-writable containers dir", filepath.Dir(mkdirMode(t, filepath.Join(base, "cw", "containers"), 0o775)), "containers (in rtd's root) is writable"},
	} {
		err := New(Options{Root: c.root, SearchPath: []string{}}).CheckRoot()
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: CheckRoot = %v, want nil", c.name, err)
			}
			continue
		}
		if !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: CheckRoot = %v, want PermissionDenied containing %q", c.name, err, c.want)
		}
	}
}

// A root another user owns is refused, and so is a record another user
// owns: its driverPath is never run.
func TestCheckRootOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: chown to another user")
	}
	base := t.TempDir()
	evil := mkdirMode(t, filepath.Join(base, "evil"), 0o755)
	if err := os.Chown(evil, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	err := New(Options{Root: evil, SearchPath: []string{}}).CheckRoot()
	if !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "is owned by uid 65534, not by you (uid 0) or root") {
		t.Errorf("CheckRoot of a root owned by 65534 = %v", err)
	}

	c := New(Options{Root: mkdirMode(t, filepath.Join(base, "mine"), 0o711), SearchPath: []string{}})
	marker := filepath.Join(base, "ran")
	script := filepath.Join(base, "rtd-driver-pwn")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	rec := &Record{ID: "pwn", Driver: "pwn", DriverPath: script}
	if err := c.CreateRecord(rec); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(c.ContainerDir("pwn"), recordFile), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DriverOf(rec); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "a container's record") {
		t.Errorf("DriverOf a record owned by 65534 = %v, want PermissionDenied", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the record's driver ran")
	}
}
