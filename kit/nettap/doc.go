// Package nettap hands the network a container's namespace was given (an
// interface CNI configured, e.g. eth0) to a virtual machine, as Kata
// Containers' "tcfilter" model does: inside the namespace it creates a tap
// device next to the interface, and two tc filters (u32, matching every
// frame, with a mirred egress redirect) move each frame arriving on the
// interface to the tap and each frame the VM sends through the tap out of
// the interface. The guest's virtio-net then takes the interface's MAC
// address, IP address, gateway and MTU (Config), so that the rest of the
// network sees the same endpoint CNI set up. The VM monitor (QEMU) gets the
// tap as an open file: -netdev tap,fd=N.
//
// It is shared by the drivers whose workload runs behind a tap (vm,
// unikernel) and by pods, and uses netlink (github.com/vishvananda/netlink)
// for everything.
package nettap
