package linux

import "github.com/rtd-project/rtd/driver"

// placeholderInfo is what the placeholder driver built on an OS other than
// Linux (unsupported.go) says about the linux driver: its name and the
// isolation it gives on Linux (Linux process isolation (libcontainer)), in full, so that a reviewer can
// compare drivers on any host. It has no build constraint, so that
// placeholder_test.go checks it on Linux too.
func placeholderInfo(version string) driver.Info {
	return driver.Info{Name: "linux", Version: version, Isolation: driver.Isolation{
		Class:              driver.IsolationProcess,
		SharesHostKernel:   true,
		SyscallFilter:      "seccomp: the OCI spec's profile (libseccomp)",
		UserNamespaces:     true,
		CapabilityModel:    "the OCI spec's capability sets; rtd's default spec keeps docker's 14 default capabilities",
		ResourceAccounting: "host cgroups (v1 or v2)",
		Platform:           "libcontainer",
		KnownGaps:          []string{"shares the host kernel: a kernel exploit escapes the container"},
	}}
}
