//go:build linux

package main

import (
	"os"
	"testing"

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
	info := drivertest.PlaceholderPlugin(t, buildDriver(t), nil, "freebsd")
	if info.Isolation.Class != driver.IsolationProcess || !info.Isolation.SharesHostKernel {
		t.Errorf("isolation %+v", info.Isolation)
	}
}

// TestConformanceReportsNotReady runs the suite against the binary: it must
// report "not ready" with the reason, pass the INFO cases and pass nothing
// else (no case may pass vacuously against a driver that cannot run).
func TestConformanceReportsNotReady(t *testing.T) {
	bin := buildDriver(t)
	drivertest.NotReady(t, bin, "requires freebsd")
}
