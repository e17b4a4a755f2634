package driver_test

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/driver/drivertest"
)

// plan9 describes a driver that runs only on plan9, in full.
var plan9 = driver.Info{Name: "plan9", Isolation: driver.Isolation{Class: driver.IsolationProcess, SharesHostKernel: true,
	SyscallFilter: "none", CapabilityModel: "namespaces of plan9", ResourceAccounting: "none"}}

func TestUnsupportedReportsNotReadyAndNotImplemented(t *testing.T) {
	u := driver.NewUnsupported(plan9, "plan9")
	drivertest.Placeholder(t, u, "plan9")
	info, _ := u.Info(context.Background())
	if gaps := info.Isolation.KnownGaps; len(gaps) != 1 || gaps[0] != "runs only on plan9: this host is "+runtime.GOOS {
		t.Errorf("known gaps %q, want where the driver runs", gaps)
	}
	// The methods Unsupported answers itself name the call and both OSes.
	ctx := context.Background()
	calls := map[string]func() error{
		"create": func() error { _, err := u.Create(ctx, &driver.CreateRequest{ID: "x"}); return err },
		"start":  func() error { return u.Start(ctx, "x") },
		"state":  func() error { _, err := u.State(ctx, "x"); return err },
		"wait":   func() error { _, err := u.Wait(ctx, &driver.WaitRequest{ID: "x"}); return err },
		"kill":   func() error { return u.Kill(ctx, &driver.KillRequest{ID: "x"}) },
		"delete": func() error { _, err := u.Delete(ctx, &driver.DeleteRequest{ID: "x"}); return err },
		"list":   func() error { _, err := u.List(ctx); return err },
	}
	for name, call := range calls {
		want := name + ": the plan9 driver requires plan9, this is " + runtime.GOOS
		if err := call(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", name, err, want)
		}
	}
}

// TestPlaceholderCheckFails proves drivertest.Placeholder can fail: a
// placeholder that leaves out isolation facts, and one whose Delete
// answers success, are both caught.
func TestPlaceholderCheckFails(t *testing.T) {
	thin := plan9
	thin.Isolation = driver.Isolation{Class: driver.IsolationProcess}
	if !fails(func(tb testing.TB) { drivertest.Placeholder(tb, driver.NewUnsupported(thin, "plan9"), "plan9") }) {
		t.Error("a placeholder without isolation facts passed")
	}
	lying := &deletesAnyway{driver.NewUnsupported(plan9, "plan9")}
	if !fails(func(tb testing.TB) { drivertest.Placeholder(tb, lying, "plan9") }) {
		t.Error("a placeholder whose Delete succeeds passed")
	}
}

type deletesAnyway struct{ *driver.Unsupported }

func (deletesAnyway) Delete(context.Context, *driver.DeleteRequest) (*driver.ExitStatus, error) {
	return &driver.ExitStatus{}, nil
}

// fails runs check against a recorder and reports whether it failed.
func fails(check func(testing.TB)) bool {
	r := &recorder{}
	done := make(chan struct{})
	go func() { // Fatalf ends the goroutine, as it ends a test
		defer close(done)
		check(r)
	}()
	<-done
	return r.failed
}

// recorder is a testing.TB that only records failure.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true; runtime.Goexit() }
func (r *recorder) Logf(string, ...any)   {}
func (r *recorder) Failed() bool          { return r.failed }
