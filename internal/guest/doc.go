// Package guest holds what rtd's two guest inits share inside a VM: the vm
// driver's agent (drivers/vm/agent) and the unikernel driver's linux-guest
// init (cmd/rtd-unikernel-init): loading the initramfs's kernel modules and
// finding the virtio disks and serial ports the host attached by name. It
// links only the standard library and x/sys, so the static inits stay
// small.
package guest
