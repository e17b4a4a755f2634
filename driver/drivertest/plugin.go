package drivertest

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
)

// PlaceholderPlugin launches bin, a driver binary built for an OS it cannot
// run on, through go-plugin with env added to its environment, as the core
// launches it. Info must answer not ready, naming the OS the driver requires
// and this one; Create and Kill must answer NotImplemented naming this OS,
// Exec NotImplemented. It returns the Info for the caller's own checks.
func PlaceholderPlugin(t *testing.T, bin string, env []string, requires string) *driver.Info {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := driver.Launch(ctx, bin, driver.LaunchOptions{
		StateDir:  t.TempDir(),
		SocketDir: t.TempDir(),
		Env:       env,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := p.Client()
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := "requires " + requires + " (this is " + runtime.GOOS + ")"; info.Health.Ready || info.Health.Reason != want {
		t.Errorf("health %+v, want not ready: %s", info.Health, want)
	}
	calls := map[string]error{}
	_, calls["create"] = c.Create(ctx, &driver.CreateRequest{ID: "x", Bundle: t.TempDir()})
	calls["kill"] = c.Kill(ctx, &driver.KillRequest{ID: "x", Signal: 9})
	if _, err := c.Exec(ctx, &driver.ExecRequest{ID: "x"}); !errdefs.IsNotImplemented(err) {
		t.Errorf("exec: %v, want NotImplemented", err)
	}
	for op, err := range calls {
		if !errdefs.IsNotImplemented(err) || !strings.Contains(err.Error(), runtime.GOOS) {
			t.Errorf("%s: %v, want NotImplemented naming %s", op, err, runtime.GOOS)
		}
	}
	return info
}
