// Command rtd-driver-linux is the rtd driver plugin for Linux process
// isolation (libcontainer). It is started by rtd through go-plugin; it also
// re-executes itself as libcontainer's init and as per-container monitors.
package main

import (
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/linux"
)

func main() {
	linux.Reexec()
	logger := driver.NewLogger("linux")
	driver.Serve(linux.New(linux.Options{StateDir: driver.StateDir(), Logger: logger}), logger)
}
