//go:build linux

package skeleton_test

import (
	"os"
	"testing"

	"github.com/rtd-project/rtd/conformance"
	"github.com/rtd-project/rtd/driver/drivertest"
)

func TestMain(m *testing.M) { os.Exit(drivertest.Main(m)) }

// The skeleton passes every MUST case of the suite, through its binary, as
// the core runs it.
func TestSkeletonConforms(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runc needs root")
	}
	rep := conformance.Run(t, conformance.Config{
		Driver: drivertest.Build(t, "github.com/rtd-project/rtd/examples/skeleton/cmd/rtd-driver-skeleton", drivertest.BuildOptions{}),
		Probe:  drivertest.Build(t, "github.com/rtd-project/rtd/conformance/probe/cmd/rtd-probe", drivertest.BuildOptions{}),
		// Fewer churn cycles than the default 200, to keep make test short
		// on a loaded machine: each cycle re-executes the whole driver
		// binary as a monitor and runs runc three times.
		ChurnCycles: 50,
	})
	for _, r := range rep.Results {
		if r.Result == conformance.Skip && r.Level == conformance.Must && r.Capability == "" {
			t.Errorf("%s (MUST) skipped without a capability: %s", r.ID, r.Message)
		}
	}
}
