package driver_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

func fullCreateRequest(id string) *driver.CreateRequest {
	return &driver.CreateRequest{
		ID:     id,
		Bundle: "/run/rtd/bundles/" + id,
		Rootfs: []driver.Mount{
			{Type: "overlay", Source: "overlay", Target: "/", Options: []string{"lowerdir=/l", "upperdir=/u", "workdir=/w"}},
			{Type: "bind", Source: "/data", Target: "/data", Options: []string{"rbind", "ro"}},
		},
		Stdio:       driver.Stdio{Stdin: "/fifo/in", Stdout: "/fifo/out", Stderr: "/fifo/err", Terminal: true},
		Annotations: map[string]string{"org.example/owner": "tests", "testdriver/oom": "yes"},
		SandboxID:   "rt-pod",
	}
}

func fullProcess() *specs.Process {
	return &specs.Process{
		Terminal:        true,
		ConsoleSize:     &specs.Box{Height: 24, Width: 80},
		User:            specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20}, Umask: new(uint32)},
		Args:            []string{"/bin/sh", "-c", "echo hi"},
		Env:             []string{"PATH=/usr/bin:/bin", "TERM=xterm"},
		Cwd:             "/work",
		Capabilities:    &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}},
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 512}},
		NoNewPrivileges: true,
		ApparmorProfile: "rtd-default",
		OOMScoreAdj:     func() *int { v := 100; return &v }(),
		SelinuxLabel:    "system_u:system_r:container_t:s0",
	}
}

func fullResources() *specs.LinuxResources {
	limit, swap, shares, quota, pids := int64(64<<20), int64(128<<20), uint64(512), int64(50000), int64(100)
	period := uint64(100000)
	return &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &limit, Swap: &swap},
		CPU:    &specs.LinuxCPU{Shares: &shares, Quota: &quota, Period: &period, Cpus: "0-1"},
		Pids:   &specs.LinuxPids{Limit: &pids},
		Unified: map[string]string{
			"memory.high": "60000000",
		},
	}
}

// TestRoundTripEveryMethod sends fully populated requests through real
// go-plugin gRPC and checks that the driver saw exactly them and that the
// client sees exactly what the driver answered.
func TestRoundTripEveryMethod(t *testing.T) {
	ctx := testContext(t)
	c := launch(t, "", driver.LaunchOptions{})
	create := roundTripCreate(ctx, t, c)
	roundTripControl(ctx, t, c)
	exit := roundTripStop(ctx, t, c, create)
	roundTripDelete(ctx, t, c, exit)
}

// roundTripCreate: Info, Create and Start of rt1, whose request it returns.
func roundTripCreate(ctx context.Context, t *testing.T, c *driver.Client) *driver.CreateRequest {
	t.Helper()
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	assertAllSet(t, "Info", info)
	assertEcho(t, c, "resp/info", info)
	if info.ContractVersion != driver.ContractVersion || info.Isolation.Class != driver.IsolationSandbox {
		t.Errorf("info = %+v", info)
	}

	if _, err := c.CreateSandbox(ctx, &driver.SandboxSpec{ID: "rt-pod"}); err != nil {
		t.Fatalf("create sandbox: %v", err)
	}
	if _, err := c.StartSandbox(ctx, "rt-pod"); err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	create := fullCreateRequest("rt1")
	assertAllSet(t, "CreateRequest", create)
	cr, err := c.Create(ctx, create)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	assertEcho(t, c, "req/create", create)
	assertEcho(t, c, "resp/create", cr)
	if cr.Pid == 0 {
		t.Errorf("create pid = 0")
	}

	if err := c.Start(ctx, "rt1"); err != nil {
		t.Fatalf("start: %v", err)
	}
	assertEcho(t, c, "req/start", "rt1")
	return create
}

// roundTripControl: the calls on running rt1, from Exec to Checkpoint.
func roundTripControl(ctx context.Context, t *testing.T, c *driver.Client) {
	t.Helper()
	exec := &driver.ExecRequest{
		ID: "rt1", ExecID: "exec-1", Process: fullProcess(),
		Stdio: driver.Stdio{Stdin: "/e/in", Stdout: "/e/out", Stderr: "/e/err", Terminal: true},
	}
	assertAllSet(t, "ExecRequest", exec)
	er, err := c.Exec(ctx, exec)
	if err != nil {
		t.Fatalf("exec: %v", err)
	}
	assertEcho(t, c, "req/exec", exec)
	assertEcho(t, c, "resp/exec", er)

	resize := &driver.ResizePtyRequest{ID: "rt1", ExecID: "exec-1", Width: 132, Height: 43}
	assertAllSet(t, "ResizePtyRequest", resize)
	if err := c.ResizePty(ctx, resize); err != nil {
		t.Fatalf("resize pty: %v", err)
	}
	assertEcho(t, c, "req/resizepty", resize)

	closeIO := &driver.CloseIORequest{ID: "rt1", ExecID: "exec-1"}
	if err := c.CloseIO(ctx, closeIO); err != nil {
		t.Fatalf("close io: %v", err)
	}
	assertEcho(t, c, "req/closeio", closeIO)

	if err := c.Pause(ctx, "rt1"); err != nil {
		t.Fatalf("pause: %v", err)
	}
	assertEcho(t, c, "req/pause", "rt1")
	if err := c.Resume(ctx, "rt1"); err != nil {
		t.Fatalf("resume: %v", err)
	}
	assertEcho(t, c, "req/resume", "rt1")

	stats, err := c.Stats(ctx, "rt1")
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	assertAllSet(t, "Stats", stats)
	assertEcho(t, c, "resp/stats", stats)

	update := &driver.UpdateRequest{ID: "rt1", Resources: fullResources()}
	assertAllSet(t, "UpdateRequest", update)
	if err := c.Update(ctx, update); err != nil {
		t.Fatalf("update: %v", err)
	}
	assertEcho(t, c, "req/update", update)

	pids, err := c.Pids(ctx, "rt1")
	if err != nil {
		t.Fatalf("pids: %v", err)
	}
	assertEcho(t, c, "resp/pids", pids)
	if len(pids) != 2 || pids[1].ExecID != "exec-1" || pids[1].Pid != er.Pid {
		t.Errorf("pids = %+v", pids)
	}

	ckpt := &driver.CheckpointRequest{ID: "rt1", Path: "/var/lib/rtd/ckpt/rt1", LeaveRunning: true}
	assertAllSet(t, "CheckpointRequest", ckpt)
	if err := c.Checkpoint(ctx, ckpt); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	assertEcho(t, c, "req/checkpoint", ckpt)
}

// roundTripStop: Kill, Wait, State and List of rt1; it returns the exit.
func roundTripStop(ctx context.Context, t *testing.T, c *driver.Client, create *driver.CreateRequest) *driver.ExitStatus {
	t.Helper()
	kill := &driver.KillRequest{ID: "rt1", ExecID: "exec-1", Signal: 9, All: true}
	assertAllSet(t, "KillRequest", kill)
	if err := c.Kill(ctx, kill); err != nil {
		t.Fatalf("kill: %v", err)
	}
	assertEcho(t, c, "req/kill", kill)

	wait := &driver.WaitRequest{ID: "rt1", ExecID: "exec-1"}
	assertAllSet(t, "WaitRequest", wait)
	exit, err := c.Wait(ctx, wait)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	assertEcho(t, c, "req/wait", wait)
	assertEcho(t, c, "resp/wait", exit)
	assertAllSet(t, "ExitStatus", exit)
	if exit.Code != 137 || exit.Signal != 9 || !exit.OOMKilled || exit.ExitedAt.IsZero() {
		t.Errorf("exit = %+v", exit)
	}

	st, err := c.State(ctx, "rt1")
	if err != nil {
		t.Fatalf("state: %v", err)
	}
	assertAllSet(t, "State", st)
	assertEcho(t, c, "resp/state", st)
	if st.Status != driver.StatusStopped || !reflect.DeepEqual(st.Exit, exit) || !reflect.DeepEqual(st.Annotations, create.Annotations) {
		t.Errorf("state = %+v, exit %+v", st, st.Exit)
	}
	if since := time.Since(st.CreatedAt); since < 0 || since > time.Minute {
		t.Errorf("state created at %v, not just now", st.CreatedAt)
	}

	list, err := c.List(ctx)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	assertEcho(t, c, "resp/list", list)
	if len(list) != 1 || !reflect.DeepEqual(list[0], st) {
		t.Errorf("list = %+v, want [%+v]", list, st)
	}
	return exit
}

// roundTripDelete: Delete of rt1, which answers exit, and Restore.
func roundTripDelete(ctx context.Context, t *testing.T, c *driver.Client, exit *driver.ExitStatus) {
	t.Helper()
	del := &driver.DeleteRequest{ID: "rt1", Force: true}
	assertAllSet(t, "DeleteRequest", del)
	dexit, err := c.Delete(ctx, del)
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	assertEcho(t, c, "req/delete", del)
	assertEcho(t, c, "resp/delete", dexit)
	if !reflect.DeepEqual(dexit, exit) {
		t.Errorf("delete exit = %+v, want %+v", dexit, exit)
	}

	restore := &driver.RestoreRequest{Create: *fullCreateRequest("rt2"), Path: "/var/lib/rtd/ckpt/rt1"}
	assertAllSet(t, "RestoreRequest", restore)
	rr, err := c.Restore(ctx, restore)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	assertEcho(t, c, "req/restore", restore)
	assertEcho(t, c, "resp/restore", rr)
}

// TestNilOptionalFields checks that optional values stay nil across the wire.
func TestNilOptionalFields(t *testing.T) {
	ctx := testContext(t)
	c := launch(t, "", driver.LaunchOptions{})
	if _, err := c.Create(ctx, &driver.CreateRequest{ID: "nil1"}); err != nil {
		t.Fatalf("create: %v", err)
	}
	st, err := c.State(ctx, "nil1")
	if err != nil {
		t.Fatalf("state: %v", err)
	}
	if st.Exit != nil || st.Annotations != nil || st.Status != driver.StatusCreated {
		t.Errorf("state of a created container = %+v", st)
	}
	if err := c.Start(ctx, "nil1"); err != nil {
		t.Fatalf("start: %v", err)
	}
	err = c.Update(ctx, &driver.UpdateRequest{ID: "nil1"})
	if !errdefs.IsInvalidArgument(err) {
		t.Errorf("update without resources: %v, want InvalidArgument (the driver saw nil)", err)
	}
	assertEcho(t, c, "req/update", &driver.UpdateRequest{ID: "nil1"})
	_, err = c.Exec(ctx, &driver.ExecRequest{ID: "nil1", ExecID: "e"})
	if !errdefs.IsInvalidArgument(err) {
		t.Errorf("exec without process: %v, want InvalidArgument (the driver saw nil)", err)
	}
	assertEcho(t, c, "req/exec", &driver.ExecRequest{ID: "nil1", ExecID: "e"})
}

// TestEventsStream checks order, field values, live delivery and that
// cancelling ctx or an error from fn ends the stream.
func TestEventsStream(t *testing.T) {
	ctx := testContext(t)
	c := launch(t, "", driver.LaunchOptions{})
	cr := eventfulLife(ctx, t, c)

	evCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan *driver.Event, 100)
	done := make(chan error, 1)
	go func() {
		done <- c.Events(evCtx, func(e *driver.Event) error { events <- e; return nil })
	}()
	next := func() *driver.Event {
		t.Helper()
		select {
		case e := <-events:
			return e
		case err := <-done:
			t.Fatalf("events ended early: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatalf("no event within 10s")
		}
		return nil
	}
	checkEventfulLife(t, next, cr)

	// A live event, emitted after the stream was opened.
	if _, err := c.Create(ctx, &driver.CreateRequest{ID: "ev2"}); err != nil {
		t.Fatalf("create ev2: %v", err)
	}
	if e := next(); e.Type != driver.EventCreate || e.ID != "ev2" {
		t.Errorf("live event = %+v, want create ev2", e)
	}

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("events after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("events did not end within 10s of cancel")
	}
	eventsEndings(ctx, t, c)
}

// eventfulLife takes ev1 through every event: create, start, exec, pause,
// resume, exit (a kill), delete.
func eventfulLife(ctx context.Context, t *testing.T, c *driver.Client) *driver.CreateResponse {
	t.Helper()
	cr, err := c.Create(ctx, &driver.CreateRequest{ID: "ev1", Bundle: "/b"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	steps := []func() error{
		func() error { return c.Start(ctx, "ev1") },
		func() error {
			_, err := c.Exec(ctx, &driver.ExecRequest{ID: "ev1", ExecID: "x1", Process: &specs.Process{Args: []string{"true"}}})
			return err
		},
		func() error { return c.Pause(ctx, "ev1") },
		func() error { return c.Resume(ctx, "ev1") },
		func() error { return c.Kill(ctx, &driver.KillRequest{ID: "ev1", Signal: 15}) },
		func() error { _, err := c.Delete(ctx, &driver.DeleteRequest{ID: "ev1"}); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	return cr
}

// checkEventfulLife reads eventfulLife's events from next, in order, with
// their fields.
func checkEventfulLife(t *testing.T, next func() *driver.Event, cr *driver.CreateResponse) {
	t.Helper()
	want := []driver.EventType{
		driver.EventCreate, driver.EventStart, driver.EventExec, driver.EventPause,
		driver.EventResume, driver.EventExit, driver.EventDelete,
	}
	var last time.Time
	for i, typ := range want {
		e := next()
		if e.Type != typ || e.ID != "ev1" {
			t.Fatalf("event %d = %s %s, want %s ev1", i, e.Type, e.ID, typ)
		}
		if e.Timestamp.IsZero() || e.Timestamp.Before(last) {
			t.Errorf("event %d timestamp %v not after %v", i, e.Timestamp, last)
		}
		last = e.Timestamp
		switch typ {
		case driver.EventExec:
			if e.ExecID != "x1" || e.Pid == 0 || e.Pid == cr.Pid {
				t.Errorf("exec event = %+v", e)
			}
		case driver.EventExit, driver.EventDelete:
			if e.Exit == nil || e.Exit.Code != 143 || e.Exit.Signal != 15 || e.Exit.ExitedAt.IsZero() || e.Exit.Reason == "" {
				t.Errorf("%s event exit = %+v", typ, e.Exit)
			}
		default:
			if e.Pid != cr.Pid || e.Exit != nil || e.ExecID != "" {
				t.Errorf("%s event = %+v", typ, e)
			}
		}
	}
}

// eventsEndings: an error from fn ends the stream with that error, a
// cursor to a driver without a journal is NotImplemented, and the driver
// keeps serving.
func eventsEndings(ctx context.Context, t *testing.T, c *driver.Client) {
	t.Helper()
	stop := errors.New("seen enough")
	n := 0
	err := c.Events(ctx, func(*driver.Event) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("events with a failing fn = %v after %d events, want %v after 3", err, n, stop)
	}

	// A cursor reaches a driver without EventReplayer (the fake) as
	// NotImplemented, at once.
	err = c.EventsFrom(ctx, &driver.EventsRequest{After: 2}, func(*driver.Event) error { return nil })
	if !errdefs.IsNotImplemented(err) {
		t.Errorf("events from a cursor on a driver without a journal = %v, want NotImplemented", err)
	}

	// The driver process is fine afterwards.
	if _, err := c.Info(ctx); err != nil {
		t.Errorf("info after events: %v", err)
	}
}
