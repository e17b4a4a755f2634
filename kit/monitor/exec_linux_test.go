//go:build linux

package monitor_test

import (
	"os"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/monitor"
)

// TestKnownExecOrder: a bad exec id is InvalidArgument before the
// container is looked up, an unknown container NotFound, an exec without
// args InvalidArgument.
func TestKnownExecOrder(t *testing.T) {
	c := &monitor.Containers{Layout: monitor.Layout{Root: t.TempDir()}, Name: "test"}
	args := &specs.Process{Args: []string{"true"}}
	if err := c.KnownExec(&driver.ExecRequest{ID: "nope", ExecID: "../e", Process: args}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad exec id of an unknown container: %v, want InvalidArgument", err)
	}
	if err := c.KnownExec(&driver.ExecRequest{ID: "nope", ExecID: "e1", Process: args}); !errdefs.IsNotFound(err) {
		t.Errorf("unknown container: %v, want NotFound", err)
	}
	if err := os.MkdirAll(c.Layout.ContainerDir("c1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.KnownExec(&driver.ExecRequest{ID: "c1", ExecID: "e1"}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("no process args: %v, want InvalidArgument", err)
	}
	if err := c.KnownExec(&driver.ExecRequest{ID: "c1", ExecID: "e1", Process: args}); err != nil {
		t.Errorf("a good request: %v", err)
	}
}
