//go:build linux

package freebsd

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/testutil"
	"github.com/rtd-project/rtd/kit/ocicli"
)

// The engine is the part of the freebsd driver that drives the runtime
// CLI. runj cannot run here, so these tests drive real runc through the
// same code: create, start, state, kill, delete, the subreaper and the
// records.

func newTestEngine(t *testing.T) *engine {
	t.Helper()
	testutil.NeedRoot(t)
	if _, err := exec.LookPath("runc"); err != nil {
		t.Skip("runc not installed (make deps installs it)")
	}
	rt, err := ocicli.New("runc", "runc", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e, err := newEngine(rt, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// testBundle is a busybox bundle runc 1.1 accepts.
func testBundle(t *testing.T, mutate func(*specs.Spec), args ...string) string {
	t.Helper()
	spec := testutil.Spec(testutil.BusyboxRootfs(t), args...)
	spec.Linux.MaskedPaths, spec.Linux.ReadonlyPaths = nil, nil
	var mounts []specs.Mount
	for _, m := range spec.Mounts {
		if m.Destination != "/sys/fs/cgroup" {
			mounts = append(mounts, m)
		}
	}
	spec.Mounts = mounts
	if mutate != nil {
		mutate(spec)
	}
	return testutil.Bundle(t, spec)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func cleanup(t *testing.T, e *engine, id string) {
	t.Cleanup(func() {
		_, _ = e.delete(context.Background(), &driver.DeleteRequest{ID: id, Force: true})
	})
}

func TestEngineLifecycle(t *testing.T) {
	e := newTestEngine(t)
	ctx := testCtx(t)
	out := filepath.Join(t.TempDir(), "stdout")
	bundle := testBundle(t, nil, "sh", "-c", "echo hello; exit 42")
	req := &driver.CreateRequest{ID: "fb-life", Bundle: bundle, Stdio: driver.Stdio{Stdout: out},
		Annotations: map[string]string{JailPrefix + "allow.raw_sockets": "true", AnnotationVnet: "new"}}
	resp, err := e.create(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	cleanup(t, e, req.ID)
	if resp.Pid == 0 {
		t.Fatal("no pid")
	}
	// The runtime got the translated bundle copy, next to runj.ext.json.
	var handed specs.Spec
	data, err := os.ReadFile(filepath.Join(e.store.bundleDir(req.ID), "config.json"))
	if err != nil || json.Unmarshal(data, &handed) != nil {
		t.Fatalf("bundle copy: %v", err)
	}
	if handed.FreeBSD == nil || !handed.FreeBSD.Jail.Allow.RawSockets || !filepath.IsAbs(handed.Root.Path) {
		t.Fatalf("bundle copy not translated: %+v %+v", handed.FreeBSD, handed.Root)
	}
	if _, err := os.Stat(filepath.Join(e.store.bundleDir(req.ID), "runj.ext.json")); err != nil {
		t.Fatalf("runj.ext.json: %v", err)
	}
	if _, err := e.create(ctx, req); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("duplicate create: %v", err)
	}
	st, err := e.state(ctx, req.ID)
	if err != nil || st.Status != driver.StatusCreated || st.Pid != resp.Pid || st.Bundle != bundle {
		t.Fatalf("state after create: %+v %v", st, err)
	}
	if b, _ := os.ReadFile(out); len(b) != 0 {
		t.Fatalf("workload ran before start: %q", b)
	}
	if err := e.start(ctx, req.ID); err != nil {
		t.Fatal(err)
	}
	exit, err := e.wait(ctx, &driver.WaitRequest{ID: req.ID})
	if err != nil || exit.Code != 42 || exit.Signal != 0 || exit.ExitedAt.IsZero() {
		t.Fatalf("wait: %+v %v", exit, err)
	}
	if again, err := e.wait(ctx, &driver.WaitRequest{ID: req.ID}); err != nil || *again != *exit {
		t.Fatalf("second wait: %+v %v", again, err)
	}
	if b, _ := os.ReadFile(out); string(b) != "hello\n" {
		t.Fatalf("stdout %q", b)
	}
	if err := e.start(ctx, req.ID); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("start of a stopped container: %v", err)
	}
	if err := e.kill(ctx, &driver.KillRequest{ID: req.ID, Signal: 15}); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("kill of a stopped container: %v", err)
	}
	list, err := e.list(ctx)
	if err != nil || len(list) != 1 || list[0].Status != driver.StatusStopped {
		t.Fatalf("list: %+v %v", list, err)
	}
	del, err := e.delete(ctx, &driver.DeleteRequest{ID: req.ID})
	if err != nil || del.Code != 42 {
		t.Fatalf("delete: %+v %v", del, err)
	}
	if _, err := e.delete(ctx, &driver.DeleteRequest{ID: req.ID}); !errdefs.IsNotFound(err) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := e.rt.State(ctx, req.ID); !errdefs.IsNotFound(err) {
		t.Fatalf("runtime still knows the container: %v", err)
	}
}

func TestEngineSignalsAndForce(t *testing.T) {
	e := newTestEngine(t)
	ctx := testCtx(t)
	bundle := testBundle(t, nil, "sleep", "1000")

	// A running container: Delete without force refuses, SIGKILL ends it.
	if _, err := e.create(ctx, &driver.CreateRequest{ID: "fb-run", Bundle: bundle}); err != nil {
		t.Fatal(err)
	}
	cleanup(t, e, "fb-run")
	if err := e.start(ctx, "fb-run"); err != nil {
		t.Fatal(err)
	}
	if st, err := e.state(ctx, "fb-run"); err != nil || st.Status != driver.StatusRunning {
		t.Fatalf("state: %+v %v", st, err)
	}
	if err := e.start(ctx, "fb-run"); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("start twice: %v", err)
	}
	if _, err := e.delete(ctx, &driver.DeleteRequest{ID: "fb-run"}); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("delete running: %v", err)
	}
	if err := e.kill(ctx, &driver.KillRequest{ID: "fb-run", Signal: 999}); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("bad signal: %v", err)
	}
	if err := e.kill(ctx, &driver.KillRequest{ID: "fb-run", Signal: 9}); err != nil {
		t.Fatal(err)
	}
	exit, err := e.wait(ctx, &driver.WaitRequest{ID: "fb-run"})
	if err != nil || exit.Code != 137 || exit.Signal != 9 {
		t.Fatalf("killed: %+v %v", exit, err)
	}

	// A forced delete of a running container kills it.
	if _, err := e.create(ctx, &driver.CreateRequest{ID: "fb-force", Bundle: bundle}); err != nil {
		t.Fatal(err)
	}
	cleanup(t, e, "fb-force")
	if err := e.start(ctx, "fb-force"); err != nil {
		t.Fatal(err)
	}
	if exit, err := e.delete(ctx, &driver.DeleteRequest{ID: "fb-force", Force: true}); err != nil || exit.Signal != 9 {
		t.Fatalf("forced delete: %+v %v", exit, err)
	}

	// A created, never started container can be killed and deleted.
	if _, err := e.create(ctx, &driver.CreateRequest{ID: "fb-created", Bundle: bundle}); err != nil {
		t.Fatal(err)
	}
	cleanup(t, e, "fb-created")
	if err := e.kill(ctx, &driver.KillRequest{ID: "fb-created", Signal: 9}); err != nil {
		t.Fatal(err)
	}
	if exit, err := e.wait(ctx, &driver.WaitRequest{ID: "fb-created"}); err != nil || exit.Signal != 9 {
		t.Fatalf("wait for a killed created container: %+v %v", exit, err)
	}
	if exit, err := e.delete(ctx, &driver.DeleteRequest{ID: "fb-created"}); err != nil || exit.Signal != 9 {
		t.Fatalf("delete of a killed created container: %+v %v", exit, err)
	}
	// ... and deleted with force, without running (LIFECYCLE-010).
	out := filepath.Join(t.TempDir(), "out")
	if _, err := e.create(ctx, &driver.CreateRequest{ID: "fb-created2", Bundle: testBundle(t, nil, "echo", "never"), Stdio: driver.Stdio{Stdout: out}}); err != nil {
		t.Fatal(err)
	}
	cleanup(t, e, "fb-created2")
	if _, err := e.delete(ctx, &driver.DeleteRequest{ID: "fb-created2", Force: true}); err != nil {
		t.Fatalf("forced delete of a created container: %v", err)
	}
	if b, _ := os.ReadFile(out); len(b) != 0 {
		t.Fatalf("the workload ran: %q", b)
	}
	if ids, _ := e.store.IDs(); len(ids) != 1 || ids[0] != "fb-run" {
		t.Fatalf("records left: %v", ids)
	}
}

func TestEngineRejects(t *testing.T) {
	e := newTestEngine(t)
	ctx := testCtx(t)
	for op, err := range map[string]error{
		"state":  func() error { _, err := e.state(ctx, "nope"); return err }(),
		"start":  e.start(ctx, "nope"),
		"kill":   e.kill(ctx, &driver.KillRequest{ID: "nope", Signal: 9}),
		"wait":   func() error { _, err := e.wait(ctx, &driver.WaitRequest{ID: "nope"}); return err }(),
		"delete": func() error { _, err := e.delete(ctx, &driver.DeleteRequest{ID: "nope"}); return err }(),
	} {
		if !errdefs.IsNotFound(err) {
			t.Errorf("%s of an unknown id: %v", op, err)
		}
	}
	good := testBundle(t, nil, "true")
	malformed := t.TempDir()
	_ = os.WriteFile(filepath.Join(malformed, "config.json"), []byte("{not json"), 0o644)
	noRoot := testBundle(t, func(s *specs.Spec) { s.Root.Path = "/nonexistent/rootfs" }, "true")
	for name, req := range map[string]*driver.CreateRequest{
		"bad id":             {ID: "../x", Bundle: good},
		"relative bundle":    {ID: "fb-rel", Bundle: "bundle"},
		"malformed config":   {ID: "fb-bad", Bundle: malformed},
		"missing rootfs":     {ID: "fb-noroot", Bundle: noRoot},
		"rootfs mounts":      {ID: "fb-mounts", Bundle: good, Rootfs: []driver.Mount{{Type: "overlay"}}},
		"unknown annotation": {ID: "fb-ann", Bundle: good, Annotations: map[string]string{"org.freebsd.jail.bogus": "1"}},
	} {
		if _, err := e.create(ctx, req); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if _, err := e.create(ctx, &driver.CreateRequest{ID: "fb-tty", Bundle: good, Stdio: driver.Stdio{Terminal: true}}); !errdefs.IsNotImplemented(err) {
		t.Errorf("terminal: %v, want NotImplemented", err)
	}
	if ids, _ := e.store.IDs(); len(ids) != 0 {
		t.Errorf("failed creates left records: %v", ids)
	}
}

// TestEngineRestart: a second engine (a restarted driver process) finds
// the containers of the first one on disk.
func TestEngineRestart(t *testing.T) {
	e := newTestEngine(t)
	ctx := testCtx(t)
	errPath := filepath.Join(t.TempDir(), "stderr")
	if _, err := e.create(ctx, &driver.CreateRequest{ID: "fb-restart", Bundle: testBundle(t, nil, "sh", "-c", "echo oops >&2; sleep 1000"),
		Stdio: driver.Stdio{Stderr: errPath}}); err != nil {
		t.Fatal(err)
	}
	cleanup(t, e, "fb-restart")
	if err := e.start(ctx, "fb-restart"); err != nil {
		t.Fatal(err)
	}
	e2 := &engine{rt: e.rt, store: e.store, log: e.log, reaping: map[string]chan struct{}{}}
	if st, err := e2.state(ctx, "fb-restart"); err != nil || st.Status != driver.StatusRunning {
		t.Fatalf("state from a new engine: %+v %v", st, err)
	}
	if err := e2.kill(ctx, &driver.KillRequest{ID: "fb-restart", Signal: 9, All: true}); err != nil {
		t.Fatal(err)
	}
	// The first engine (still this process) is the reaper and records it.
	exit, err := e2.wait(ctx, &driver.WaitRequest{ID: "fb-restart"})
	if err != nil || exit.Signal != 9 {
		t.Fatalf("wait from a new engine: %+v %v", exit, err)
	}
	if b, _ := os.ReadFile(errPath); !strings.Contains(string(b), "oops") {
		t.Fatalf("stderr %q", b)
	}
}
