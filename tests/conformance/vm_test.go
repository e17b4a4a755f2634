//go:build linux

package conformance_test

import (
	"os/exec"
	"testing"

	"github.com/rtd-project/rtd/conformance"
	"github.com/rtd-project/rtd/drivers/vm"
	"github.com/rtd-project/rtd/internal/vmm"
)

// needVM skips unless QEMU and the guest kernel cache are there: they are
// what make deps installs for the vm driver.
func needVM(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not found: apt-get install qemu-system-x86 erofs-utils (make deps)")
	}
	if _, err := vmm.FindKernel(vm.KernelDirEnv); err != nil {
		t.Skip(err.Error())
	}
}

// TestVMDriverConforms certifies the vm driver (one QEMU microVM per
// container; TCG on hosts without a working KVM, where each container boots
// in about two seconds, hence the short churn).
func TestVMDriverConforms(t *testing.T) {
	needRoot(t)
	t.Parallel()
	needVM(t)
	drv := build(t, "rtd-driver-vm", "github.com/rtd-project/rtd/cmd/rtd-driver-vm", false)
	// The driver finds its guest agent next to itself.
	build(t, "rtd-vm-agent", "github.com/rtd-project/rtd/drivers/vm/cmd/rtd-vm-agent", true, "seccomp", "osusergo", "netgo")
	conforms(t, conformance.Config{Driver: drv, ChurnCycles: 10})
}
