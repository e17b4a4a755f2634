package drivertest_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/driver/drivertest"
)

func TestMain(m *testing.M) { os.Exit(drivertest.Main(m)) }

// tiny implements Exec and Pause in code; which of them it claims is up to
// the test. Exec panics with the id "boom".
type tiny struct {
	driver.Unimplemented
	caps driver.Capabilities
}

func (d *tiny) Info(context.Context) (*driver.Info, error) {
	return &driver.Info{Name: "tiny", Capabilities: d.caps, Health: driver.Health{Ready: true}}, nil
}
func (d *tiny) Create(context.Context, *driver.CreateRequest) (*driver.CreateResponse, error) {
	return &driver.CreateResponse{Pid: 1}, nil
}
func (d *tiny) Start(context.Context, string) error { return nil }
func (d *tiny) State(_ context.Context, id string) (*driver.State, error) {
	return nil, driver.NotFoundf("state %s: container", id)
}
func (d *tiny) Wait(context.Context, *driver.WaitRequest) (*driver.ExitStatus, error) {
	return &driver.ExitStatus{}, nil
}
func (d *tiny) Kill(context.Context, *driver.KillRequest) error { return nil }
func (d *tiny) Delete(context.Context, *driver.DeleteRequest) (*driver.ExitStatus, error) {
	return &driver.ExitStatus{}, nil
}
func (d *tiny) List(context.Context) ([]*driver.State, error) { return nil, nil }
func (d *tiny) Exec(_ context.Context, req *driver.ExecRequest) (*driver.ExecResponse, error) {
	if req.ID == "boom" {
		panic("exec exploded")
	}
	return &driver.ExecResponse{Pid: 42}, nil
}
func (d *tiny) Pause(context.Context, string) error { return nil }

// The SDK, not the driver's code, decides whether an optional method is
// served: a method the driver implements but does not claim answers
// NotImplemented.
func TestUnclaimedMethodAnswersNotImplemented(t *testing.T) {
	ctx := context.Background()
	c := drivertest.New(t, &tiny{caps: driver.Capabilities{Exec: true}})
	if resp, err := c.Exec(ctx, &driver.ExecRequest{ID: "c1", ExecID: "e1"}); err != nil || resp.Pid != 42 {
		t.Fatalf("claimed exec = %+v, %v; want pid 42", resp, err)
	}
	err := c.Pause(ctx, "c1")
	if !errdefs.IsNotImplemented(err) || !strings.Contains(err.Error(), "pause") {
		t.Fatalf("unclaimed pause = %v, want NotImplemented naming pause", err)
	}
	if err := c.Resume(ctx, "c1"); !errdefs.IsNotImplemented(err) {
		t.Fatalf("unclaimed resume = %v, want NotImplemented", err)
	}
}

func TestErrorsKeepTheirClassAndPanicsAnswerInternal(t *testing.T) {
	ctx := context.Background()
	c := drivertest.New(t, &tiny{caps: driver.Capabilities{Exec: true}})
	if _, err := c.State(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Fatalf("state = %v, want NotFound", err)
	}
	_, err := c.Exec(ctx, &driver.ExecRequest{ID: "boom", ExecID: "e1"})
	if !errdefs.IsInternal(err) || !strings.Contains(err.Error(), "exec") {
		t.Fatalf("panicking exec = %v, want Internal naming exec", err)
	}
	if _, err := c.Info(ctx); err != nil {
		t.Fatalf("info after a panic: %v", err)
	}
}

func TestBuildReturnsOneBinaryPerPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	a := drivertest.Build(t, "github.com/rtd-project/rtd/conformance/probe/cmd/rtd-probe", drivertest.BuildOptions{})
	b := drivertest.Build(t, "github.com/rtd-project/rtd/conformance/probe/cmd/rtd-probe", drivertest.BuildOptions{})
	if a != b {
		t.Fatalf("second Build = %s, want the first binary %s", b, a)
	}
	if fi, err := os.Stat(a); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("binary %s: %v", a, err)
	}
}
