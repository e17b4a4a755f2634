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
	return drivertest.Build(t, "github.com/rtd-project/rtd/cmd/rtd-driver-windows", drivertest.BuildOptions{})
}

// TestPluginOnLinux launches the real binary through go-plugin in each
// isolation mode: it must say why it is not ready, describe the mode's
// isolation and refuse every call with NotImplemented.
func TestPluginOnLinux(t *testing.T) {
	bin := buildDriver(t)
	for mode, class := range map[string]driver.IsolationClass{"process": driver.IsolationProcess, "hyperv": driver.IsolationVM} {
		info := drivertest.PlaceholderPlugin(t, bin, []string{"RTD_WINDOWS_ISOLATION=" + mode}, "windows")
		if info.Isolation.Class != class {
			t.Errorf("%s: isolation %+v", mode, info.Isolation)
		}
	}
}

// TestConformanceReportsNotReady runs the suite against the binary: it must
// report "not ready" with the reason, pass the INFO cases and pass nothing
// else (no case may pass vacuously against a driver that cannot run).
func TestConformanceReportsNotReady(t *testing.T) {
	bin := buildDriver(t)
	drivertest.NotReady(t, bin, "requires windows")
}
