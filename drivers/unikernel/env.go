package unikernel

// Environment variables that point the driver at its assets.
const (
	// QEMUEnv names the QEMU binary (default: qemu-system-x86_64 in PATH).
	QEMUEnv = "RTD_UNIKERNEL_QEMU"
	// KernelDirEnv names the linux guest's kernel directory (default: the
	// vm driver's kernel: rtd's built kernel, else Debian's cloud kernel).
	KernelDirEnv = "RTD_UNIKERNEL_KERNEL_DIR"
	// InitEnv names the linux guest's init (default: rtd-unikernel-init
	// next to the driver binary, then in /usr/libexec/rtd).
	InitEnv = "RTD_UNIKERNEL_INIT"
	// AccelEnv forces the accelerator ("kvm" or "tcg") instead of probing.
	AccelEnv = "RTD_UNIKERNEL_ACCEL"
)
