// Package vmm holds the driver-neutral pieces the QEMU-based drivers share
// (drivers/vm and drivers/unikernel): the microvm command line, starting
// QEMU in its own process group, the accelerator probe (a real boot, since
// an open /dev/kvm proves nothing), the host's TSC rate for tsc_early_khz
// under TCG, the guest kernel cached by hack/vm-kernel.sh, initramfs (cpio)
// and EROFS image building, cached per image next to the image store's
// snapshot (RootfsImage). It knows nothing of agents or guests' programs.
package vmm
