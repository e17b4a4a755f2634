//go:build linux

package driver

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// dieWithParent makes the kernel kill the driver process when the process
// that launched it dies without closing it (kill -9 of the CLI): a driver
// holds no container state, so nothing is lost, and none is left behind.
// The kernel fires Pdeathsig when the launching *thread* exits, not the
// process, so the driver is started on launcherThread (below).
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

// launcher is one OS thread that never exits, on which driver processes
// are started: Go ends a thread whose goroutine locked it and returned
// (code that changes a thread's namespaces does that: containerd's mount
// helpers, the conformance suite's netns setup), and a driver started from
// such a thread would get its Pdeathsig then, in the middle of its life.
var launcher struct {
	once sync.Once
	work chan func()
}

// onLauncherThread runs fn on the launcher thread and waits for it.
// Launches are serialized by it; each holds the thread only for its
// handshake.
func onLauncherThread(fn func()) {
	launcher.once.Do(func() {
		launcher.work = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for f := range launcher.work {
				f()
			}
		}()
	})
	done := make(chan struct{})
	launcher.work <- func() { defer close(done); fn() }
	<-done
}
