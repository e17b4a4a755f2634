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
	conforms(t, conformance.Config{
		Driver:      build(t, "rtd-driver-gvisor", "github.com/rtd-project/rtd/cmd/rtd-driver-gvisor", false),
		ChurnCycles: 40,
	})
}
