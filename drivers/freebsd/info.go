package freebsd

import (
	"runtime"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
)

// isolation is what a jail isolates, as runj sets it up.
func isolation() driver.Isolation {
	return driver.Isolation{
		Class:              driver.IsolationProcess,
		SharesHostKernel:   true,
		SyscallFilter:      "none: jails restrict privileged operations by prison checks, not by filtering system calls",
		UserNamespaces:     false,
		CapabilityModel:    "root in a jail is confined by jail(8) permissions (allow.* parameters, securelevel); no Linux capabilities",
		Rootless:           false,
		ResourceAccounting: "none: the driver sets no rctl(8) limits",
		Platform:           "FreeBSD jail (runj)",
		KnownGaps: []string{
			"shares the host kernel: a kernel exploit escapes the jail",
			"no resource limits (rctl) and no seccomp-like filter",
			"whether runj applies freebsd.jail allow.*, sysv* and parent depends on the runj version; it applies host, ip4/ip6, vnet and enforce_statfs",
			"the exit status of a container that ends while no driver process runs is lost (the driver process is the subreaper)",
			"not run on a FreeBSD host by rtd's developers: the CLI layer is tested on Linux against runc, the FreeBSD parts are unit tested and cross-compiled",
		},
	}
}

// info is the Info every build of the driver returns, with its health.
func info(version string, h driver.Health) *driver.Info {
	return &driver.Info{
		Name:            "freebsd",
		Version:         version,
		ContractVersion: driver.ContractVersion,
		OS:              runtime.GOOS,
		Arch:            runtime.GOARCH,
		Isolation:       isolation(),
		Health:          h,
	}
}

// Options configure a Driver.
type Options struct {
	// StateDir holds the driver's records and bundle copies; default
	// /var/run/rtd/drivers/freebsd.
	StateDir string
	// Runj is the runj binary, a path or a name looked up in PATH; default "runj".
	Runj string
	// Version is reported by Info; default "dev".
	Version string
	// Logger receives the driver's log lines; nil discards them.
	Logger hclog.Logger
}
