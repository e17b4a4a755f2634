package linux

import (
	"os"

	lc "github.com/opencontainers/runc/libcontainer"
	// devices lets the cgroup manager apply device rules.
	_ "github.com/opencontainers/cgroups/devices"
	// nsenter joins namespaces before the Go runtime starts in "init".
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// Reexec runs this process as libcontainer's init or as a monitor when it was
// started as one, and never returns then. Call it first thing in main.
func Reexec() {
	switch {
	case len(os.Args) > 1 && os.Args[1] == "init":
		lc.Init()
	case os.Args[0] == monitorName && len(os.Args) == 3:
		os.Exit(runMonitor(os.Args[1], os.Args[2]))
	}
}
