package linux

import "github.com/rtd-project/rtd/drivers/linux/lcmon"

// Reexec runs this process as libcontainer's init or as a monitor when it was
// started as one, and never returns then. Call it first thing in main. The
// driver binary is its own monitor only where cmd/rtd-linux-monitor is not
// installed next to it (monitorBinary).
func Reexec() { lcmon.Reexec() }
