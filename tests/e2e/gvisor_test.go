//go:build linux

package e2e

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

// devNullOwner returns the owner of the host's /dev/null.
func devNullOwner(t *testing.T) (uid, gid uint32) {
	t.Helper()
	fi, err := os.Stat(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

// TestGvisorLeavesHostDevNullAlone: runsc hands its own stdio to the
// sandbox's user (nobody), chowning what it was given. Given the host's
// /dev/null, every process on the host lost its /dev/null to nobody.
func TestGvisorLeavesHostDevNullAlone(t *testing.T) {
	needRunsc(t)
	e := newEnv(t)
	if uid, gid := devNullOwner(t); uid != 0 || gid != 0 {
		// A run before this fix left it so: restore it, then watch it.
		t.Logf("/dev/null was owned by %d:%d; restoring root:root", uid, gid)
		if err := os.Chown(os.DevNull, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if uid, gid := devNullOwner(t); uid != 0 || gid != 0 {
			_ = os.Chown(os.DevNull, 0, 0)
		}
	})
	check := func(what string) {
		t.Helper()
		if uid, gid := devNullOwner(t); uid != 0 || gid != 0 {
			t.Fatalf("after %s /dev/null is owned by %d:%d, want 0:0", what, uid, gid)
		}
	}
	fs := rootfs(t)
	// Attached, stdin not forwarded.
	if r := e.ok("run", "--rm", "--driver", "gvisor", fs, "sh", "-c", "echo out; echo err >&2; cat"); r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("attached run: %s", r)
	}
	check("an attached gvisor run")
	// Detached, then an exec.
	e.ok("run", "-d", "--name", "g", "--driver", "gvisor", fs, "sleep", "30")
	check("a detached gvisor run")
	if r := e.ok("exec", "g", "sh", "-c", "echo seen"); !strings.Contains(r.stdout, "seen") {
		t.Fatalf("exec: %s", r)
	}
	check("gvisor execs")
	e.ok("rm", "-f", "g")
}
