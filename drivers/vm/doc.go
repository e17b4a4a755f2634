// Package vm is the rtd driver for hardware-virtualization isolation: every
// container runs in its own QEMU microVM, under a guest kernel (rtd's own
// microVM build, hack/guest-kernel.sh, else Debian's linux-image-cloud-amd64,
// hack/vm-kernel.sh: internal/vmm.FindKernel), Kata-style.
//
// The guest's /init is rtd's agent (package agent), which serves the driver
// contract over a virtio-serial port by running the linux driver inside the
// guest. On the host, each container has a monitor process named
// "rtd-vm-monitor" (a re-execution of the driver binary, in its own
// session) that owns QEMU, builds the disk images (the bundle's root as an
// EROFS image, never mounted on the host), copies stdio between the host
// paths and the guest, records the exit status and proxies the contract to
// the guest on a unix socket. The driver process keeps no state in memory
// and may be killed at any time.
//
// QEMU uses KVM only when a real boot with it works (probed once per state
// directory), TCG otherwise.
package vm
