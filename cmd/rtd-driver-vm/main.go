// Command rtd-driver-vm is the rtd driver plugin for VM isolation: one QEMU
// microVM per container, with rtd's guest agent (rtd-vm-agent, found next to
// this binary) as the guest's init. It is started by rtd through go-plugin;
// it also re-executes itself as the per-container monitors.
package main

import (
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/vm"
)

func main() {
	vm.Reexec()
	logger := driver.NewLogger("vm")
	driver.Serve(vm.New(vm.Options{StateDir: driver.StateDir(), Logger: logger}), logger)
}
