package vm

// Environment variables that point the driver at its assets.
const (
	// KernelDirEnv names a kernel directory laid out as hack/vm-kernel.sh
	// and hack/guest-kernel.sh lay theirs out (default: vmm.FindKernel).
	KernelDirEnv = "RTD_VM_KERNEL_DIR"
	// AgentEnv names the guest agent binary (default: rtd-vm-agent next to
	// the driver binary, then in /usr/libexec/rtd).
	AgentEnv = "RTD_VM_AGENT"
	// QEMUEnv names the QEMU binary (default: qemu-system-x86_64 in PATH).
	QEMUEnv = "RTD_VM_QEMU"
	// AccelEnv forces the accelerator ("kvm" or "tcg") instead of probing.
	AccelEnv = "RTD_VM_ACCEL"
)

// DefaultKernelDir is where hack/vm-kernel.sh caches Debian's cloud kernel,
// the fallback when no kernel was built (vmm.BuiltKernelDir).
const DefaultKernelDir = "/var/cache/rtd/vm/default"
