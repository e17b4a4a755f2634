package driver_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
)

// TestErrorClassesSurvive checks that each errdefs class a driver returns
// comes out of the client as the same class.
func TestErrorClassesSurvive(t *testing.T) {
	ctx := testContext(t)
	p := launchProcess(t, "", driver.LaunchOptions{})
	c := p.Client()
	if _, err := c.Create(ctx, &driver.CreateRequest{ID: "e1"}); err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := c.Create(ctx, &driver.CreateRequest{ID: "down", Annotations: map[string]string{"testdriver/unavailable": "1"}}); err != nil {
		t.Fatalf("create: %v", err)
	}

	cases := []struct {
		name string
		call func() error
		is   func(error) bool
		want string
	}{
		{"state unknown", func() error { _, err := c.State(ctx, "nope"); return err }, errdefs.IsNotFound, "NotFound"},
		{"delete unknown", func() error { _, err := c.Delete(ctx, &driver.DeleteRequest{ID: "nope"}); return err }, errdefs.IsNotFound, "NotFound"},
		{"create twice", func() error { _, err := c.Create(ctx, &driver.CreateRequest{ID: "e1"}); return err }, errdefs.IsAlreadyExists, "AlreadyExists"},
		{"create empty id", func() error { _, err := c.Create(ctx, &driver.CreateRequest{}); return err }, errdefs.IsInvalidArgument, "InvalidArgument"},
		{"kill bad signal", func() error { return c.Kill(ctx, &driver.KillRequest{ID: "e1", Signal: 999}) }, errdefs.IsInvalidArgument, "InvalidArgument"},
		{"pause created", func() error { return c.Pause(ctx, "e1") }, errdefs.IsFailedPrecondition, "FailedPrecondition"},
		{"driver unavailable", func() error { return c.Start(ctx, "down") }, errdefs.IsUnavailable, "Unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := tc.call()
			if err == nil || !tc.is(err) {
				t.Fatalf("error = %v, want class %s", err, tc.want)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("took %v: a driver's own error must not wait for the process to die", took)
			}
		})
	}

	// The driver's own Unavailable is not mistaken for a dead process.
	if p.Exited() {
		t.Fatal("driver exited")
	}
	if err := c.Start(ctx, "down"); strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "backend is down on purpose") {
		t.Errorf("driver's unavailable error = %q, want the driver's message", err)
	}
}

// TestUnimplementedAnswersNotImplemented checks that the optional methods of
// a driver embedding Unimplemented answer NotImplemented over the wire.
func TestUnimplementedAnswersNotImplemented(t *testing.T) {
	ctx := testContext(t)
	c := launch(t, "minimal", driver.LaunchOptions{Name: "minimal"})
	calls := map[string]func() error{
		"exec": func() error {
			_, err := c.Exec(ctx, &driver.ExecRequest{ID: "x"})
			return err
		},
		"resize pty": func() error { return c.ResizePty(ctx, &driver.ResizePtyRequest{ID: "x"}) },
		"close io":   func() error { return c.CloseIO(ctx, &driver.CloseIORequest{ID: "x"}) },
		"pause":      func() error { return c.Pause(ctx, "x") },
		"resume":     func() error { return c.Resume(ctx, "x") },
		"stats":      func() error { _, err := c.Stats(ctx, "x"); return err },
		"update":     func() error { return c.Update(ctx, &driver.UpdateRequest{ID: "x"}) },
		"pids":       func() error { _, err := c.Pids(ctx, "x"); return err },
		"events": func() error {
			return c.Events(ctx, func(*driver.Event) error { return errors.New("unexpected event") })
		},
		"checkpoint": func() error { return c.Checkpoint(ctx, &driver.CheckpointRequest{ID: "x"}) },
		"restore": func() error {
			_, err := c.Restore(ctx, &driver.RestoreRequest{Create: driver.CreateRequest{ID: "x"}})
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errdefs.IsNotImplemented(err) {
			t.Errorf("%s: %v, want NotImplemented", name, err)
		}
	}
	if _, err := c.State(ctx, "x"); !errdefs.IsNotFound(err) {
		t.Errorf("state: %v, want NotFound", err)
	}
	list, err := c.List(ctx)
	if err != nil || len(list) != 0 {
		t.Errorf("list = %v, %v; want empty", list, err)
	}
}

// TestWaitBlocksUntilExitOrCancel checks Wait's blocking semantics.
func TestWaitBlocksUntilExitOrCancel(t *testing.T) {
	ctx := testContext(t)
	c := launch(t, "", driver.LaunchOptions{})
	if _, err := c.Create(ctx, &driver.CreateRequest{ID: "w1"}); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := c.Start(ctx, "w1"); err != nil {
		t.Fatalf("start: %v", err)
	}

	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err := c.Wait(short, &driver.WaitRequest{ID: "w1"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait with a deadline = %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(begin); took < 150*time.Millisecond {
		t.Errorf("wait returned after %v, before its deadline", took)
	}

	cctx, ccancel := context.WithCancel(ctx)
	go func() { time.Sleep(100 * time.Millisecond); ccancel() }()
	if _, err := c.Wait(cctx, &driver.WaitRequest{ID: "w1"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait cancelled = %v, want context.Canceled", err)
	}

	type result struct {
		exit *driver.ExitStatus
		err  error
	}
	waited := make(chan result, 1)
	go func() {
		e, err := c.Wait(ctx, &driver.WaitRequest{ID: "w1"})
		waited <- result{e, err}
	}()
	select {
	case r := <-waited:
		t.Fatalf("wait returned before the exit: %+v %v", r.exit, r.err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := c.Kill(ctx, &driver.KillRequest{ID: "w1", Signal: 9}); err != nil {
		t.Fatalf("kill: %v", err)
	}
	var r result
	select {
	case r = <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not return within 10s of the kill")
	}
	if r.err != nil || r.exit.Code != 137 || r.exit.Signal != 9 {
		t.Fatalf("wait = %+v, %v; want code 137 signal 9", r.exit, r.err)
	}
	// Again after the exit: the same status.
	again, err := c.Wait(ctx, &driver.WaitRequest{ID: "w1"})
	if err != nil || *again != *r.exit {
		t.Errorf("second wait = %+v, %v; want %+v", again, err, r.exit)
	}
}

// TestPanicBecomesInternal checks that a panicking driver method answers
// Internal, naming the method, and the driver keeps serving.
func TestPanicBecomesInternal(t *testing.T) {
	ctx := testContext(t)
	p := launchProcess(t, "", driver.LaunchOptions{})
	c := p.Client()
	if _, err := c.Create(ctx, &driver.CreateRequest{ID: "p1", Annotations: map[string]string{"testdriver/panic": "1"}}); err != nil {
		t.Fatalf("create: %v", err)
	}
	err := c.Start(ctx, "p1")
	if !errdefs.IsInternal(err) || !strings.Contains(err.Error(), "start") {
		t.Fatalf("start of a panicking driver = %v, want Internal naming start", err)
	}
	if _, err := c.Info(ctx); err != nil || p.Exited() {
		t.Fatalf("driver after a panic: %v (exited %v)", err, p.Exited())
	}
}
