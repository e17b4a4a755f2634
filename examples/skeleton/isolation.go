package skeleton

import "github.com/rtd-project/rtd/driver"

// isolation is what runc isolates, honestly: the bundle decides most of it.
var isolation = driver.Isolation{
	Class: driver.IsolationProcess, SharesHostKernel: true,
	SyscallFilter:      "seccomp: the profile in config.json, applied by runc (none when the spec has none)",
	CapabilityModel:    "the capability sets of config.json, applied by runc",
	ResourceAccounting: "host cgroups, made by runc from config.json",
	Platform:           "runc",
	KnownGaps:          []string{"shares the host kernel", "no exec, terminal, pause or stats"},
}
