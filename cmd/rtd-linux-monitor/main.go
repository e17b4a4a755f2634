//go:build linux

// Command rtd-linux-monitor is the start half of the linux driver's
// per-container monitors: rtd-driver-linux starts it (as "rtd-monitor STATE
// PROCDIR") to create a container or exec a process with libcontainer, and
// libcontainer re-executes it as the container's init. It links libcontainer
// but not the driver SDK (gRPC, go-plugin), so it starts in about half the
// time of the driver binary; once the workload exists it re-executes into
// rtd-monitor (kit/monitor/watch). It is not run by hand; without it
// next to rtd-driver-linux, the driver binary does its work itself.
package main

import (
	"fmt"
	"os"

	"github.com/rtd-project/rtd/drivers/linux/lcmon"
)

func main() {
	lcmon.Reexec()
	fmt.Fprintln(os.Stderr, "rtd-linux-monitor: not to be run by hand; rtd-driver-linux starts it for each container and exec")
	os.Exit(2)
}
