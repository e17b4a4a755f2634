//go:build linux || freebsd

package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// runInit is rtd's --init: pid 1 of the container, which runs the command
// after "--" as its child, forwards every signal it gets to it, reaps every
// zombie (orphans re-parented to pid 1 included) and exits with the
// child's status (128+N when signal N killed it), as docker-init (tini).
func runInit(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "rtd-init: no command given")
		return exitRtdError
	}
	sigc := make(chan os.Signal, 32)
	signal.Notify(sigc)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "rtd-init: %v\n", err)
		if os.IsNotExist(err) || err == exec.ErrNotFound {
			return exitCommandMissing
		}
		return exitCannotInvoke
	}
	child := cmd.Process.Pid
	for sig := range sigc {
		switch sig {
		case syscall.SIGCHLD:
			if code, done := reap(child); done {
				return code
			}
		case syscall.SIGURG: // the Go runtime's own preemption signal
		default:
			if s, ok := sig.(syscall.Signal); ok {
				_ = syscall.Kill(child, s)
			}
		}
	}
	return exitRtdError
}

// reap collects every exited child; done is true once child itself ended.
func reap(child int) (code int, done bool) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err != nil || pid <= 0 {
			return code, done
		}
		if pid == child {
			done = true
			code = ws.ExitStatus()
			if ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		}
	}
}
