// Package guest holds what rtd's two guest inits share inside a VM: the vm
// driver's agent (drivers/vm/agent) and the unikernel driver's linux-guest
// init (cmd/rtd-unikernel-init): loading the initramfs's kernel modules and
// finding the virtio disks and serial ports the host attached by name, and
// configuring the virtio-net devices standing for the interfaces of the
// container's network namespace on the host (kit/nettap). It links only the
// standard library, x/sys and vishvananda/netlink, so the static inits stay
// small.
package guest
