package core

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
)

func newFakeCore(t *testing.T) (*Core, string) {
	t.Helper()
	c := New(Options{Root: shortTempDir(t), SearchPath: []string{fakeDriverDir(t)}})
	t.Cleanup(c.Close)
	return c, c.DriverStateDir("fake")
}

// shortTempDir keeps unix socket paths under the 108-byte limit.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rtdc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func assertNoContainers(t *testing.T, c *Core) {
	t.Helper()
	entries, _ := os.ReadDir(c.containersDir())
	if len(entries) != 0 {
		t.Fatalf("%s holds %v, want nothing", c.containersDir(), entries)
	}
}

func TestLaunchSetsStateDir(t *testing.T) {
	c, state := newFakeCore(t)
	d, err := c.Driver(t.Context(), "fake")
	if err != nil {
		t.Fatal(err)
	}
	info, err := d.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != state {
		t.Fatalf("driver saw %s=%q, want %q", driver.StateDirEnv, info.Version, state)
	}
	fi, err := os.Stat(filepath.Join(c.Root(), "sock"))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket dir: %v, %v; want mode 0700", fi, err)
	}
}

func TestCreateAndRemove(t *testing.T) {
	c, state := newFakeCore(t)
	dir := t.TempDir()
	ctr, err := c.Create(t.Context(), CreateOptions{ID: "web", Driver: "fake", Image: dir, Detached: true,
		Spec: SpecOptions{Args: []string{"sleep", "1"}, Labels: map[string]string{"a": "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lookup("we"); !errdefs.IsNotFound(err) {
		t.Fatalf("a prefix of a name found %v; names match exactly", err)
	}
	rec, err := c.Lookup("web")
	if err != nil {
		t.Fatal(err)
	}
	if rec.ID != "web" || rec.Name != "web" || rec.Driver != "fake" || rec.Image != dir || rec.Labels["a"] != "b" ||
		rec.LogPath != filepath.Join(ctr.Dir, LogFile) || rec.Command[0] != "sleep" || !rec.Detached {
		t.Fatalf("record = %+v", rec)
	}
	if ctr.Stdio.Stdout != rec.LogPath || ctr.Stdio.Stderr != rec.LogPath {
		t.Fatalf("stdio = %+v", ctr.Stdio)
	}
	if _, err := os.Stat(filepath.Join(rec.Bundle, "config.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(t.Context(), CreateOptions{ID: "web", Driver: "fake", Image: dir}); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("second create of web = %v, want AlreadyExists", err)
	}
	if err := c.Remove(t.Context(), rec, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(state, "web")); err == nil {
		t.Fatal("Remove did not delete the container on the driver")
	}
	assertNoContainers(t, c)
}

func TestCreateAttachedMakesFIFOs(t *testing.T) {
	c, _ := newFakeCore(t)
	ctr, err := c.Create(t.Context(), CreateOptions{Driver: "fake", Image: t.TempDir(), Stdin: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{ctr.Stdio.Stdin, ctr.Stdio.Stdout, ctr.Stdio.Stderr} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("%q: %v, %v; want a FIFO", p, fi, err)
		}
	}
	if len(ctr.Record.ID) != 12 {
		t.Errorf("generated id %q", ctr.Record.ID)
	}
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	c, state := newFakeCore(t)
	rootfs := t.TempDir()
	badBundle := t.TempDir()
	writeFile(t, filepath.Join(badBundle, "config.json"), "{oops")
	deadDir := t.TempDir()
	writeFile(t, filepath.Join(deadDir, "rtd-driver-dead"), "#!/bin/sh\necho dying >&2\nexit 3\n")
	if err := os.Chmod(filepath.Join(deadDir, "rtd-driver-dead"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		opts  CreateOptions
		class func(error) bool
	}{
		"unknown driver":  {CreateOptions{Driver: "nope", Image: rootfs}, errdefs.IsNotFound},
		"invalid id":      {CreateOptions{ID: "../x", Driver: "fake", Image: rootfs}, errdefs.IsInvalidArgument},
		"missing rootfs":  {CreateOptions{Driver: "fake", Image: filepath.Join(rootfs, "missing")}, errdefs.IsNotFound},
		"malformed":       {CreateOptions{Driver: "fake", Image: badBundle}, errdefs.IsInvalidArgument},
		"dead driver":     {CreateOptions{Driver: filepath.Join(deadDir, "rtd-driver-dead"), Image: rootfs}, errdefs.IsUnavailable},
		"bad memory flag": {CreateOptions{Driver: "fake", Image: rootfs, Spec: SpecOptions{Memory: -1}}, errdefs.IsInvalidArgument},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.Create(t.Context(), tc.opts)
			if !tc.class(err) {
				t.Fatalf("Create = %v, wrong class", err)
			}
			assertNoContainers(t, c)
		})
	}
	t.Run("driver refuses", func(t *testing.T) {
		writeFile(t, filepath.Join(state, "fail-create"), "")
		defer os.Remove(filepath.Join(state, "fail-create"))
		_, err := c.Create(t.Context(), CreateOptions{ID: "refused", Driver: "fake", Image: rootfs})
		if !errdefs.IsInvalidArgument(err) {
			t.Fatalf("Create = %v, want the driver's InvalidArgument", err)
		}
		assertNoContainers(t, c)
		if _, err := os.Stat(filepath.Join(state, "deleted-refused")); err != nil {
			t.Fatal("the rollback did not delete the container on the driver")
		}
	})
}

func TestPrepareExec(t *testing.T) {
	c, _ := newFakeCore(t)
	rootfs := t.TempDir()
	writeFile(t, filepath.Join(rootfs, "etc", "passwd"), "alice:x:1000:1001::/:/bin/sh\n")
	ctr, err := c.Create(t.Context(), CreateOptions{Driver: "fake", Image: rootfs, Detached: true,
		Spec: SpecOptions{Env: []string{"A=1"}, Cwd: "/srv"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := ctr.Record
	if _, err := c.PrepareExec(rec, ExecOptions{}); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("PrepareExec without args = %v, want InvalidArgument", err)
	}
	p, err := c.PrepareExec(rec, ExecOptions{Args: []string{"id"}, Env: []string{"B=2"}, User: "alice", Stdin: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Spec.Cwd != "/srv" || p.Spec.User.UID != 1000 || p.Spec.User.GID != 1001 || p.Spec.Args[0] != "id" {
		t.Errorf("exec process = %+v", p.Spec)
	}
	env := strings.Join(p.Spec.Env, " ")
	if !strings.Contains(env, "A=1") || !strings.Contains(env, "B=2") {
		t.Errorf("exec env = %v", p.Spec.Env)
	}
	for _, f := range []string{p.Stdio.Stdin, p.Stdio.Stdout, p.Stdio.Stderr} {
		if fi, err := os.Stat(f); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("%q is not a FIFO: %v", f, err)
		}
	}
	if err := c.StartExec(t.Context(), rec, p); !errdefs.IsNotImplemented(err) {
		t.Errorf("StartExec on a driver without exec = %v, want NotImplemented", err)
	}
	c.RemoveExecFiles(rec, p.ExecID)
	entries, _ := os.ReadDir(ctr.Dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), p.ExecID) {
			t.Errorf("RemoveExecFiles left %s", e.Name())
		}
	}
}
