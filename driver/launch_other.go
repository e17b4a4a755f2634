//go:build !linux

package driver

import "os/exec"

// dieWithParent has no portable equivalent outside Linux.
func dieWithParent(*exec.Cmd) {}

// onLauncherThread runs fn: only Linux ties a child's Pdeathsig to a thread.
func onLauncherThread(fn func()) { fn() }
