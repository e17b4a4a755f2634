package linux

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/driver/drivertest"
	"github.com/rtd-project/rtd/internal/testutil"
)

// The test binary doubles as libcontainer init and as the monitor.
func TestMain(m *testing.M) {
	Reexec()
	os.Exit(drivertest.Main(m))
}

func needRoot(t *testing.T) { testutil.NeedRoot(t) }

func busyboxRootfs(t *testing.T) string { return testutil.BusyboxRootfs(t) }

func testSpec(rootfs string, args ...string) *specs.Spec { return testutil.Spec(rootfs, args...) }

func writeBundle(t *testing.T, spec *specs.Spec) string { return testutil.Bundle(t, spec) }

func newTestDriver(t *testing.T) *Driver {
	return New(Options{StateDir: t.TempDir()})
}

func TestRunExitCodeAndOutput(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := newTestDriver(t)
	rootfs := busyboxRootfs(t)
	// Cgroups of other roots' c1 (a test killed half-way) are not this
	// test's: only a new one counts as left behind.
	before, _ := filepath.Glob("/sys/fs/cgroup/memory/rtd/*/c1")
	bundle := writeBundle(t, testSpec(rootfs, "sh", "-c", "echo out; echo err >&2; exit 42"))
	outDir := t.TempDir()
	stdout, stderr := filepath.Join(outDir, "out"), filepath.Join(outDir, "err")
	if err := syscall.Mkfifo(stdout, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		data, _ := os.ReadFile(stdout)
		got <- string(data)
	}()
	resp, err := d.Create(ctx, &driver.CreateRequest{ID: "c1", Bundle: bundle, Stdio: driver.Stdio{Stdout: stdout, Stderr: stderr}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Pid == 0 {
		t.Fatal("no pid")
	}
	st, err := d.State(ctx, "c1")
	if err != nil || st.Status != driver.StatusCreated {
		t.Fatalf("state after create = %+v, %v; want created", st, err)
	}
	if err := d.Start(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	exit, err := d.Wait(ctx, &driver.WaitRequest{ID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if exit.Code != 42 {
		t.Fatalf("exit code %d, want 42", exit.Code)
	}
	if out := <-got; out != "out\n" {
		t.Fatalf("stdout %q", out)
	}
	if data, _ := os.ReadFile(stderr); string(data) != "err\n" {
		t.Fatalf("stderr %q", data)
	}
	again, err := d.Wait(ctx, &driver.WaitRequest{ID: "c1"})
	if err != nil || again.Code != 42 || !again.ExitedAt.Equal(exit.ExitedAt) {
		t.Fatalf("second wait = %+v, %v", again, err)
	}
	if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: "c1"}); !errdefs.IsNotFound(err) {
		t.Fatalf("delete twice: %v, want NotFound", err)
	}
	if left, _ := filepath.Glob("/sys/fs/cgroup/memory/rtd/*/c1"); len(left) > len(before) {
		t.Fatalf("cgroup left behind: %v (before the test: %v)", left, before)
	}
}

func TestKillRunningAndForceDelete(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := newTestDriver(t)
	bundle := writeBundle(t, testSpec(busyboxRootfs(t), "sleep", "1000"))
	if _, err := d.Create(ctx, &driver.CreateRequest{ID: "c2", Bundle: bundle}); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, "c2"); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, "c2"); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("start twice: %v", err)
	}
	if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: "c2"}); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("delete running: %v", err)
	}
	if err := d.Kill(ctx, &driver.KillRequest{ID: "c2", Signal: 9}); err != nil {
		t.Fatal(err)
	}
	exit, err := d.Wait(ctx, &driver.WaitRequest{ID: "c2"})
	if err != nil || exit.Code != 137 || exit.Signal != 9 {
		t.Fatalf("wait = %+v, %v; want 137", exit, err)
	}
	if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: "c2"}); err != nil {
		t.Fatal(err)
	}
}

func TestBadInput(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	d := newTestDriver(t)
	if _, err := d.Create(ctx, &driver.CreateRequest{ID: "../x", Bundle: t.TempDir()}); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("bad id: %v", err)
	}
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "config.json"), []byte("{not json"), 0o644)
	if _, err := d.Create(ctx, &driver.CreateRequest{ID: "b", Bundle: broken}); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("broken config: %v", err)
	}
	missing := writeBundle(t, testSpec("/nonexistent/rootfs", "true"))
	if _, err := d.Create(ctx, &driver.CreateRequest{ID: "m", Bundle: missing}); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("missing rootfs: %v", err)
	}
	nocmd := writeBundle(t, testSpec(busyboxRootfs(t), "/no/such/cmd"))
	_, err := d.Create(ctx, &driver.CreateRequest{ID: "n", Bundle: nocmd})
	if err == nil {
		_ = d.Start(ctx, "n")
		exit, werr := d.Wait(ctx, &driver.WaitRequest{ID: "n"})
		t.Logf("no such command: create ok, exit %+v %v", exit, werr)
		d.Delete(ctx, &driver.DeleteRequest{ID: "n", Force: true})
	} else {
		t.Logf("no such command: %v", err)
	}
	entries, _ := os.ReadDir(d.layout.ContainersDir())
	if len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}

// TestCreateAbandonedByCallerLeavesNothing: a Create whose caller gave up
// (a gRPC deadline passed while the monitor started) fails and leaves no
// container, monitor, cgroup or state behind. Under load, conformance's
// ROBUST-003 saw such a create finish after its caller's deadline and
// leave a running monitor nobody knew about.
func TestCreateAbandonedByCallerLeavesNothing(t *testing.T) {
	needRoot(t)
	d := newTestDriver(t)
	id := "abandoned"
	before, _ := filepath.Glob("/sys/fs/cgroup/memory/rtd/*/" + id)
	bundle := writeBundle(t, testSpec(busyboxRootfs(t), "sleep", "1000"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the caller is gone before the monitor reports
	if _, err := d.Create(ctx, &driver.CreateRequest{ID: id, Bundle: bundle}); !errors.Is(err, context.Canceled) {
		t.Fatalf("create for a caller that gave up: %v, want context.Canceled", err)
	}
	bg := context.Background()
	if _, err := d.State(bg, id); !errdefs.IsNotFound(err) {
		t.Errorf("state after the failed create: %v, want NotFound", err)
	}
	if _, err := os.Stat(d.layout.ContainerDir(id)); !os.IsNotExist(err) {
		t.Errorf("state dir left behind: %v", err)
	}
	if left, _ := filepath.Glob("/sys/fs/cgroup/memory/rtd/*/" + id); len(left) > len(before) {
		t.Errorf("cgroup left behind: %v", left)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if data, _ := os.ReadFile(p); strings.Contains(string(data), d.layout.ContainerDir(id)) {
			t.Errorf("process left behind: %s %q", p, data)
		}
	}
}
