//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seccompProbe prints the seccomp mode of pid 1 and whether unshare --user
// (blocked by docker's default profile: CLONE_NEWUSER without
// CAP_SYS_ADMIN) succeeds.
const seccompProbe = `grep '^Seccomp:' /proc/1/status; if unshare --user true 2>/dev/null; then echo unshare=ok; else echo unshare=denied; fi`

// TestSeccompDefault: rtd's default spec carries docker's default profile
// (containerd's contrib/seccomp), which blocks a syscall it blocks;
// seccomp=unconfined and --privileged run without a filter; a profile file
// is enforced; inspect says which one was applied.
func TestSeccompDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fs := rootfs(t)
	cases := []struct {
		args []string
		want string
	}{
		{nil, "Seccomp:\t2\nunshare=denied\n"},
		{[]string{"--security-opt", "seccomp=unconfined"}, "Seccomp:\t0\nunshare=ok\n"},
		{[]string{"--privileged"}, "Seccomp:\t0\nunshare=ok\n"},
	}
	for _, c := range cases {
		args := append(append([]string{"run", "--rm"}, c.args...), fs, "sh", "-c", seccompProbe)
		if r := e.ok(args...); r.stdout != c.want {
			t.Errorf("%v: got %q, want %q", c.args, r.stdout, c.want)
		}
	}
	// A profile of one's own: allow all but unshare.
	prof := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(prof, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["unshare"],"action":"SCMP_ACT_ERRNO"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.ok("run", "--rm", "--security-opt", "seccomp="+prof, fs, "sh", "-c", seccompProbe); r.stdout != "Seccomp:\t2\nunshare=denied\n" {
		t.Errorf("seccomp=FILE: %s", r)
	}
	for _, c := range []struct{ args []string }{{nil}, {[]string{"--security-opt", "seccomp=unconfined"}}} {
		id := uniqueID("sec")
		e.ok(append(append([]string{"create", "--name", id}, c.args...), fs, "true")...)
		r := e.ok("inspect", "--format", "{{.Security.Seccomp}} {{.Security.NoNewPrivileges}}", id)
		want := "default true\n"
		if c.args != nil {
			want = "unconfined true\n"
		}
		if r.stdout != want {
			t.Errorf("inspect of %v: %q, want %q", c.args, r.stdout, want)
		}
		if r := e.ok("inspect", id); !strings.Contains(r.stdout, `"security"`) {
			t.Errorf("inspect's JSON has no security: %s", r)
		}
		e.ok("rm", id)
	}
	wantOneLineError(t, e, e.wantCode(125, "run", "--rm", "--security-opt", "seccomp="+filepath.Join(t.TempDir(), "nope.json"), fs, "true"), "seccomp profile")
	wantOneLineError(t, e, e.wantCode(125, "run", "--rm", "--security-opt", "apparmor=x", fs, "true"), "unsupported --security-opt")
}

// TestCapabilities: --cap-drop, --cap-add (any spelling, ALL) and
// --privileged change the capability sets the process gets.
func TestCapabilities(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fs := rootfs(t)
	capBnd := func(args ...string) string {
		t.Helper()
		r := e.ok(append(append([]string{"run", "--rm"}, args...), fs, "sh", "-c", "grep CapBnd /proc/self/status")...)
		return strings.TrimSpace(strings.TrimPrefix(r.stdout, "CapBnd:"))
	}
	// Docker's 14 default capabilities.
	if got := capBnd(); got != "00000000a80425fb" {
		t.Errorf("default CapBnd %s, want docker's 00000000a80425fb", got)
	}
	if got := capBnd("--cap-drop", "ALL", "--cap-add", "net_admin"); got != "0000000000001000" {
		t.Errorf("--cap-drop ALL --cap-add net_admin: CapBnd %s, want only CAP_NET_ADMIN (bit 12)", got)
	}
	if got := capBnd("--cap-drop", "CAP_CHOWN"); got != "00000000a80425fa" {
		t.Errorf("--cap-drop CAP_CHOWN: CapBnd %s", got)
	}
	host, _ := os.ReadFile("/proc/self/status")
	var hostBnd string
	for _, l := range strings.Split(string(host), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			hostBnd = strings.TrimSpace(v)
		}
	}
	if got := capBnd("--privileged"); got != hostBnd {
		t.Errorf("--privileged: CapBnd %s, want rtd's own bounding set %s", got, hostBnd)
	}
	// no-new-privileges: rtd's default sets it (docker's does not); =false clears it.
	r := e.ok("run", "--rm", "--security-opt", "no-new-privileges=false", fs, "grep", "NoNewPrivs", "/proc/self/status")
	if !strings.Contains(r.stdout, "0") {
		t.Errorf("no-new-privileges=false: %s", r)
	}
	wantOneLineError(t, e, e.wantCode(125, "run", "--rm", "--cap-add", "NOPE", fs, "true"), "unknown capability")
}
