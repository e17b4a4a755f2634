// Command rtd-driver-unikernel is the rtd driver plugin for the unikernel
// isolation class: each container is the only program of a QEMU microVM
// (urunc's images; a Linux kernel with rtd-unikernel-init, found next to
// this binary, for ordinary programs). It is started by rtd through
// go-plugin; it also re-executes itself as the per-container monitors.
package main

import (
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/unikernel"
)

func main() {
	unikernel.Reexec()
	logger := driver.NewLogger("unikernel")
	driver.Serve(unikernel.New(unikernel.Options{StateDir: driver.StateDir(), Logger: logger}), logger)
}
