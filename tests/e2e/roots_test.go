//go:build linux

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The same id in two roots is two containers: each gets its own cgroup
// (rtd's default spec names /rtd/<hash of the root>/<id>), both run, and
// removing one leaves the other running and nothing of itself behind.
func TestSameIDInTwoRoots(t *testing.T) {
	e1, e2 := newEnv(t), newEnv(t)
	fs := rootfs(t)
	id := uniqueID("dup")
	e1.ok("run", "-d", "--name", id, fs, "sleep", "1000")
	e2.ok("run", "-d", "--name", id, fs, "sleep", "1000")
	for _, e := range []*env{e1, e2} {
		if l := psLine(e, id); !strings.Contains(l, "running") {
			t.Fatalf("root %s: ps: %q, want running", e.root, l)
		}
	}
	e1.ok("rm", "-f", id)
	if l := psLine(e2, id); !strings.Contains(l, "running") {
		t.Fatalf("rm -f in one root stopped the other's container: ps: %q", l)
	}
	if _, err := os.Stat(filepath.Join(e1.root, "drivers", "linux", "lc", id)); err == nil {
		t.Errorf("libcontainer state of %s left in %s", id, e1.root)
	}
	e2.ok("exec", id, "true")
	e2.ok("rm", "-f", id)
	if _, err := os.Stat(filepath.Join(e2.root, "drivers", "linux", "lc", id)); err == nil {
		t.Errorf("libcontainer state of %s left in %s", id, e2.root)
	}
	assertNoLeaks(t, e1, id)
	assertNoLeaks(t, e2, id)
}

// Names match exactly, as docker's: with only web1, rm -f web removes
// nothing (and, as docker's rm -f of a missing container, succeeds).
func TestNamesMatchExactly(t *testing.T) {
	e := newEnv(t)
	name := uniqueID("web")
	e.ok("run", "-d", "--name", name+"1", rootfs(t), "sleep", "1000")
	if r := e.wantCode(0, "rm", "-f", name); r.stdout != "" || r.stderr != "" {
		t.Errorf("rm -f of a missing container: want no output: %s", r)
	}
	r := e.wantCode(1, "rm", name)
	if !strings.Contains(r.stderr, "no such container: "+name) {
		t.Errorf("want a no such container error: %s", r)
	}
	if l := psLine(e, name+"1"); !strings.Contains(l, "running") {
		t.Fatalf("rm -f %s touched %s1: ps: %q", name, name, l)
	}
	e.ok("rm", "-f", name+"1")
	assertNoLeaks(t, e, name+"1")
}

// A root another user can write is refused before anything in it is read
// or run: here a root owned by nobody holding a record whose driverPath is
// nobody's script (rtd ps -a once ran it as root). So is a group-writable
// root. A root of ours under /tmp (sticky, 1777) is fine: every test uses
// one.
func TestRootOwnedByAnotherUserIsRefused(t *testing.T) {
	e := newEnv(t)
	base := t.TempDir()
	evil := filepath.Join(base, "evil")
	marker := filepath.Join(base, "pwned")
	script := filepath.Join(evil, "pwn.sh")
	rec := filepath.Join(evil, "containers", "pwn", "record.json")
	if err := os.MkdirAll(filepath.Dir(rec), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	body := `{"id": "pwn", "driver": "pwn", "driverPath": "` + script + `", "bundle": "/nonexistent", "image": "x", "command": ["x"], "created": "2026-01-01T00:00:00Z", "detached": true, "autoRemove": false}`
	if err := os.WriteFile(rec, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := filepath.Walk(evil, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, 65534, 65534)
	}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"ps", "-a"}, {"rm", "-f", "pwn"}, {"inspect", "pwn"}, {"run", "-d", "hello"}} {
		cmd := exec.CommandContext(e.ctx, rtdBin, append([]string{"--root", evil}, args...)...)
		cmd.Env = e.environ()
		r := e.finish(cmd, args)
		want := 1 // docker's code for a failed command, run's is 125
		if args[0] == "run" {
			want = 125
		}
		if r.code != want || strings.Count(r.stderr, "\n") != 1 ||
			!strings.Contains(r.stderr, "rtd: root "+evil+": "+evil+" (rtd's root) is owned by uid 65534, not by you (uid 0) or root") {
			t.Errorf("want exit %d and one line naming the owner: %s", want, r)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("rtd ran the driver a record in another user's root names")
	}
	if err := filepath.Walk(evil, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, 0, 0)
	}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(evil, 0o775); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(e.ctx, rtdBin, "--root", evil, "ps", "-a")
	cmd.Env = e.environ()
	if r := e.finish(cmd, []string{"ps", "-a"}); r.code != 1 || !strings.Contains(r.stderr, "is writable by group or others (mode 0775)") {
		t.Errorf("a group-writable root: want exit 1 naming the mode: %s", r)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("rtd ran the driver a record in a group-writable root names")
	}
}
