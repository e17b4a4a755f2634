//go:build linux

package e2e

import (
	"os"
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
// nothing.
func TestNamesMatchExactly(t *testing.T) {
	e := newEnv(t)
	name := uniqueID("web")
	e.ok("run", "-d", "--name", name+"1", rootfs(t), "sleep", "1000")
	r := e.wantCode(125, "rm", "-f", name)
	if !strings.Contains(r.stderr, "no such container: "+name) {
		t.Errorf("want a no such container error: %s", r)
	}
	if l := psLine(e, name+"1"); !strings.Contains(l, "running") {
		t.Fatalf("rm -f %s touched %s1: ps: %q", name, name, l)
	}
	e.ok("rm", "-f", name+"1")
	assertNoLeaks(t, e, name+"1")
}
