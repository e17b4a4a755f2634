package vm

import "github.com/rtd-project/rtd/driver"

// placeholderInfo is what the placeholder driver built on an OS other than
// Linux (unsupported.go) says about the vm driver: its name and the
// isolation it gives on Linux (a QEMU microVM per container), in full, so that a reviewer can
// compare drivers on any host. It has no build constraint, so that
// placeholder_test.go checks it on Linux too.
func placeholderInfo(version string) driver.Info {
	return driver.Info{Name: "vm", Version: version, Isolation: driver.Isolation{
		Class:              driver.IsolationVM,
		GuestKernel:        "Linux in a QEMU microVM, with rtd's guest agent as init",
		SyscallFilter:      "seccomp inside the guest: the OCI spec's profile is enforced by the guest kernel; the host sees only QEMU's syscalls",
		UserNamespaces:     true,
		CapabilityModel:    "the OCI spec's capability sets apply inside the guest; root in the container is root of a guest kernel, not of the host",
		ResourceAccounting: "in guest: cgroups v2 of the guest kernel hold the spec's limits; the VM is sized from the memory limit",
		Platform:           "qemu microvm",
	}}
}
