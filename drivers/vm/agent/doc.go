// Package agent is the guest side of the vm driver: the static program that
// runs as /init of the guest's initramfs. It prepares the guest (mounts,
// modules, cgroup2, a root that pivot_root accepts), finds the virtio-serial
// port named wire.PortName and serves the host over it: the rtd driver
// contract, implemented by the linux driver running inside the guest, plus
// the stdio streams and the control requests of package wire.
//
// The agent is the only place where the vm driver uses drivers/linux: it is a
// separate binary (drivers/vm/cmd/rtd-vm-agent), never linked into the host
// driver.
package agent
