package conformance_test

import (
	"os/exec"
	"testing"

	"github.com/rtd-project/rtd/conformance"
)

func TestGvisorDriverConforms(t *testing.T) {
	needRoot(t)
	t.Parallel()
	if _, err := exec.LookPath("runsc"); err != nil {
		t.Skip("runsc not installed: make deps installs Debian's runsc")
	}
	rep := conformance.Run(t, conformance.Config{
		Driver:      build(t, "rtd-driver-gvisor", "github.com/rtd-project/rtd/cmd/rtd-driver-gvisor", false),
		Probe:       probe(t),
		ChurnCycles: 40,
		Run:         runFilter(),
	})
	for _, r := range rep.Results {
		if r.Result == conformance.Skip && r.Capability == "" {
			t.Errorf("%s skipped without a capability: %s", r.ID, r.Message)
		}
	}
}
