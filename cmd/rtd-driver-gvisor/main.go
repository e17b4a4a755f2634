// Command rtd-driver-gvisor is the rtd driver plugin for gVisor (runsc). It
// also re-executes itself as the per-container monitors.
package main

import (
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/gvisor"
)

func main() {
	gvisor.Reexec()
	logger := driver.NewLogger("gvisor")
	driver.Serve(gvisor.New(gvisor.Options{StateDir: driver.StateDir(), Logger: logger}), logger)
}
