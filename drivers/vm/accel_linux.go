package vm

import (
	"fmt"
	"os"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/drivers/vm/wire"
	"github.com/rtd-project/rtd/internal/vmm"
)

// probeAccel decides between KVM and TCG (vmm.AccelProbe): $RTD_VM_ACCEL if
// set, else the cached answer, else a real boot of the agent's initramfs
// with KVM, which must print wire.ProbeOK.
func probeAccel(l layout, log hclog.Logger, a *assets) vmm.AccelAnswer {
	if v := os.Getenv(AccelEnv); v == "kvm" || v == "tcg" {
		return vmm.AccelProbe{Env: AccelEnv}.Run(log)
	}
	if a.ready() != nil {
		return vmm.AccelAnswer{Accel: "tcg", Reason: "not probed: the driver is not ready"}
	}
	return vmm.AccelProbe{
		CacheFile: l.accelFile(), QEMU: a.qemu, Kernel: a.kernel.Release, Env: AccelEnv,
		Boot: func() error { return probeKVM(l, a) },
	}.Run(log)
}

// probeKVM boots the guest once with KVM and reports why it did not work.
func probeKVM(l layout, a *assets) error {
	initrd, err := initramfs(l.initramfsDir(), a.agent, a.kernel)
	if err != nil {
		return fmt.Errorf("kvm: not probed: %v", err)
	}
	console, err := os.CreateTemp(l.Root, "kvm-probe-*.log")
	if err != nil {
		return fmt.Errorf("kvm: not probed: %v", err)
	}
	console.Close()
	defer os.Remove(console.Name())
	cfg := vmConfig{accel: "kvm", memoryMiB: minMemoryMiB, cpus: 1, kernel: a.kernel, initrd: initrd, console: console.Name(), probe: true}
	return vmm.ProbeBoot(a.qemu, cfg.qemuArgs(), console.Name(), wire.ProbeOK)
}
