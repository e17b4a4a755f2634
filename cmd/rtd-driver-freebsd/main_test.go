//go:build linux

package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/driver/drivertest"
)

func TestMain(m *testing.M) { os.Exit(drivertest.Main(m)) }

// buildDriver compiles this command, as `make build` does (static, no cgo).
func buildDriver(t *testing.T) string {
	return drivertest.Build(t, "github.com/rtd-project/rtd/cmd/rtd-driver-freebsd", drivertest.BuildOptions{})
}

// TestPluginOnLinux launches the real binary through go-plugin: it must say
// why it is not ready and refuse every call with NotImplemented.
func TestPluginOnLinux(t *testing.T) {
	bin := buildDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := driver.Launch(ctx, bin, driver.LaunchOptions{
		StateDir:  t.TempDir(),
		SocketDir: t.TempDir(),
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
	if info.Health.Ready || info.Health.Reason != "requires freebsd (this is linux)" ||
		info.Isolation.Class != driver.IsolationProcess || !info.Isolation.SharesHostKernel {
		t.Errorf("info %+v", info)
	}
	_, err = c.Create(ctx, &driver.CreateRequest{ID: "x", Bundle: t.TempDir()})
	if !errdefs.IsNotImplemented(err) || !strings.Contains(err.Error(), "linux") {
		t.Errorf("create: %v, want NotImplemented naming the OS", err)
	}
	if err := c.Kill(ctx, &driver.KillRequest{ID: "x", Signal: 9}); !errdefs.IsNotImplemented(err) {
		t.Errorf("kill: %v", err)
	}
}

// TestConformanceReportsNotReady runs the suite against the binary: it must
// report "not ready" with the reason, pass the INFO cases and pass nothing
// else (no case may pass vacuously against a driver that cannot run).
func TestConformanceReportsNotReady(t *testing.T) {
	bin := buildDriver(t)
	drivertest.NotReady(t, bin, "requires freebsd")
}
