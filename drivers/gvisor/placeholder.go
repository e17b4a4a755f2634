package gvisor

import "github.com/rtd-project/rtd/driver"

// placeholderInfo is what the placeholder driver built on an OS other than
// Linux (unsupported.go) says about the gvisor driver: its name and the
// isolation it gives on Linux (gVisor (runsc)), in full, so that a reviewer can
// compare drivers on any host. It has no build constraint, so that
// placeholder_test.go checks it on Linux too.
func placeholderInfo(version string) driver.Info {
	return driver.Info{Name: "gvisor", Version: version, Isolation: driver.Isolation{
		Class:              driver.IsolationSandbox,
		GuestKernel:        "gVisor Sentry, a user-space kernel",
		SyscallFilter:      "the Sentry serves every syscall and itself runs under a host seccomp filter; a seccomp profile in the spec is enforced inside the sandbox",
		CapabilityModel:    "capabilities from the OCI spec, checked by the Sentry against its own kernel objects",
		ResourceAccounting: "host cgroup of the whole sandbox (Sentry and gofer included)",
		Platform:           "runsc",
	}}
}
