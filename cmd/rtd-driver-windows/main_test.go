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
	return drivertest.Build(t, "github.com/rtd-project/rtd/cmd/rtd-driver-windows", drivertest.BuildOptions{})
}

// TestPluginOnLinux launches the real binary through go-plugin: it must say
// why it is not ready and refuse every call with NotImplemented.
func TestPluginOnLinux(t *testing.T) {
	bin := buildDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for mode, class := range map[string]driver.IsolationClass{"process": driver.IsolationProcess, "hyperv": driver.IsolationVM} {
		p, err := driver.Launch(ctx, bin, driver.LaunchOptions{
			StateDir:  t.TempDir(),
			Env:       []string{"RTD_WINDOWS_ISOLATION=" + mode},
			SocketDir: t.TempDir(),
		})
		if err != nil {
			t.Fatal(err)
		}
		c := p.Client()
		info, err := c.Info(ctx)
		if err != nil {
			p.Close()
			t.Fatal(err)
		}
		if info.Health.Ready || info.Health.Reason != "requires windows (this is linux)" || info.Isolation.Class != class {
			t.Errorf("%s: info %+v", mode, info)
		}
		_, err = c.Create(ctx, &driver.CreateRequest{ID: "x", Bundle: t.TempDir()})
		if !errdefs.IsNotImplemented(err) || !strings.Contains(err.Error(), "linux") {
			t.Errorf("%s: create: %v, want NotImplemented naming the OS", mode, err)
		}
		if _, err := c.Exec(ctx, &driver.ExecRequest{ID: "x"}); !errdefs.IsNotImplemented(err) {
			t.Errorf("%s: exec: %v", mode, err)
		}
		p.Close()
	}
}

// TestConformanceReportsNotReady runs the suite against the binary: it must
// report "not ready" with the reason, pass the INFO cases and pass nothing
// else (no case may pass vacuously against a driver that cannot run).
func TestConformanceReportsNotReady(t *testing.T) {
	bin := buildDriver(t)
	drivertest.NotReady(t, bin, "requires windows")
}
