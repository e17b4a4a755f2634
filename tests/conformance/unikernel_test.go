//go:build linux

package conformance_test

import (
	"encoding/base64"
	"os/exec"
	"testing"

	"github.com/rtd-project/rtd/conformance"
	"github.com/rtd-project/rtd/drivers/unikernel"
	"github.com/rtd-project/rtd/internal/vmm"
)

// TestUnikernelDriverConforms certifies the unikernel driver with the probe
// as the linux guest's program (urunc's unikernelType annotation "linux":
// rtd's kernel and init, the probe alone in its VM). Exec and the cases
// that need a Linux process model the guest cannot honour are NotFor the
// unikernel class; every other MUST applies.
func TestUnikernelDriverConforms(t *testing.T) {
	needRoot(t)
	t.Parallel()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not found: apt-get install qemu-system-x86 erofs-utils (make deps)")
	}
	if _, err := vmm.FindKernel(unikernel.KernelDirEnv); err != nil {
		t.Skip(err.Error())
	}
	drv := build(t, "rtd-driver-unikernel", "github.com/rtd-project/rtd/cmd/rtd-driver-unikernel", false)
	// The driver finds the linux guest's init next to itself.
	build(t, "rtd-unikernel-init", "github.com/rtd-project/rtd/cmd/rtd-unikernel-init", false)
	rep := conformance.Run(t, conformance.Config{
		Driver:      drv,
		Probe:       probe(t),
		ChurnCycles: 10,
		Run:         runFilter(),
		Annotations: map[string]string{unikernel.AnnotType: base64.StdEncoding.EncodeToString([]byte(unikernel.GuestLinux))},
	})
	for _, r := range rep.Results {
		if r.Result == conformance.Skip && r.Capability == "" && r.Message == "" {
			t.Errorf("%s skipped without a reason", r.ID)
		}
	}
}
