//go:build linux

package outoftree_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/rtd-project/rtd/conformance"
	"github.com/rtd-project/rtd/driver/drivertest"
)

func TestMain(m *testing.M) { os.Exit(drivertest.Main(m)) }

// The driver, built from this module, passes the suite's info, lifecycle,
// exit and robustness cases through conformance.Run, as an author's own go
// test would run it (the skeleton's test runs every case).
func TestOutOfTreeDriverConforms(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runc needs root")
	}
	rep := conformance.Run(t, conformance.Config{
		Driver:      drivertest.Build(t, "./cmd/rtd-driver-outoftree", drivertest.BuildOptions{}),
		Probe:       drivertest.Build(t, "github.com/rtd-project/rtd/conformance/probe/cmd/rtd-probe", drivertest.BuildOptions{}),
		Run:         regexp.MustCompile(`^(INFO|LIFECYCLE|EXIT|ROBUST-00[12])-`),
		ChurnCycles: 10,
	})
	if rep.Passed < 20 {
		t.Errorf("only %d cases passed: %s", rep.Passed, rep.Summary())
	}
}
