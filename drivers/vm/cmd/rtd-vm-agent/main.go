// Command rtd-vm-agent is the guest agent of the vm driver: the /init of the
// initramfs the driver boots. It must be a static binary; on Linux with cgo
// (the only build that runs) static_linux.go makes it one. Build it with
//
//	CGO_ENABLED=1 go build -tags seccomp,osusergo,netgo -ldflags '-s -w' ./drivers/vm/cmd/rtd-vm-agent
//
// and put it next to rtd-driver-vm (or name it in $RTD_VM_AGENT).
package main

import (
	"github.com/rtd-project/rtd/drivers/linux"
	"github.com/rtd-project/rtd/drivers/vm/agent"
)

func main() {
	// The guest's libcontainer init and linux monitors are re-executions
	// of this binary: they never return from Reexec.
	linux.Reexec()
	agent.Main()
}
