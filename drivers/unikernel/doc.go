// Package unikernel is the rtd driver for the unikernel isolation class, in
// urunc's model: the container's workload is the only program of a QEMU
// microVM. There is no guest agent and no exec; the QEMU process is the
// container's process (kill, wait and exit status act on it).
//
// A bundle declares its unikernel as urunc images do: the annotations
// com.urunc.unikernel.* (base64 values), or /urunc.json in the root
// filesystem. Two guests run: "pvh" (and urunc's PVH-booted "unikraft"),
// a bootable ELF from the rootfs that reports its exit code through QEMU's
// isa-debug-exit; and "linux", rtd's guest kernel (hack/vm-kernel.sh's
// cache) with a small static init of rtd's (cmd/rtd-unikernel-init) that
// runs the container's program from the rootfs, handed over as an EROFS
// block image, and reports its exit code. Every container has a monitor
// (kit/monitor) that is QEMU's parent and subreaper, holds its stdio
// (the guest's serial console) and records the exit status, so containers
// outlive the driver process.
package unikernel
