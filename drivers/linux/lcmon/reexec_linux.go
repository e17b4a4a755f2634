package lcmon

import (
	"os"

	_ "github.com/opencontainers/cgroups/devices" // lets the cgroup manager apply device rules
	lc "github.com/opencontainers/runc/libcontainer"
	_ "github.com/opencontainers/runc/libcontainer/nsenter" // joins namespaces before the Go runtime starts in "init"

	"github.com/rtd-project/rtd/kit/monitor/proc"
)

// Reexec runs this process as libcontainer's init, a sandbox holder or a
// monitor when it was started as one, and never returns then. Call it first thing in main.
func Reexec() {
	switch {
	case len(os.Args) > 1 && os.Args[1] == "init":
		lc.Init()
	case len(os.Args) > 1 && os.Args[1] == HolderArg:
		os.Exit(holderMain())
	case proc.IsMonitor():
		os.Exit(proc.Main(&Backend{}))
	}
}
