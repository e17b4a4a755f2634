package unikernel

import "github.com/rtd-project/rtd/driver"

// placeholderInfo is what the placeholder driver built on an OS other than
// Linux (unsupported.go) says about the unikernel driver: its name and the
// isolation it gives on Linux (the workload as the only program of a QEMU microVM), in full, so that a reviewer can
// compare drivers on any host. It has no build constraint, so that
// placeholder_test.go checks it on Linux too.
func placeholderInfo(version string) driver.Info {
	return driver.Info{Name: "unikernel", Version: version, Isolation: driver.Isolation{
		Class:              driver.IsolationUnikernel,
		GuestKernel:        "the image's own unikernel, or Linux with rtd-unikernel-init for an ordinary program",
		SyscallFilter:      "none inside the guest (a unikernel has no syscall boundary); the host sees only QEMU's syscalls",
		CapabilityModel:    "none apply to a unikernel, which is the whole guest; a linux guest applies the spec's sets inside the guest kernel",
		ResourceAccounting: "the VM's size: memory from the spec's limit, 1 vCPU",
		Platform:           "qemu microvm",
	}}
}
