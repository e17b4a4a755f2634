//go:build linux

package driver

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the driver process when the process
// that launched it dies without closing it (kill -9 of the CLI): a driver
// holds no container state, so nothing is lost, and none is left behind.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
