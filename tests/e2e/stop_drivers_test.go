//go:build linux

package e2e

import (
	"testing"
	"time"
)

// TestStopRestartGvisor: stop and restart through runsc, as on linux.
func TestStopRestartGvisor(t *testing.T) {
	t.Parallel()
	needRunsc(t)
	testStopRestart(t, newEnv(t), "gvisor", rootfs(t))
}

// TestStopRestartVM: stop and restart of a microVM container: SIGTERM
// reaches the workload in the guest (its own exit code), -t 0 kills it,
// restart boots it again.
func TestStopRestartVM(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	needVMDriver(t)
	fs := rootfs(t)
	id := uniqueID("vmstop")
	e.ok("run", "-d", "--driver", "vm", "--name", id, fs, "sh", "-c", `trap "exit 3" TERM; while :; do sleep 0.1; done`)
	waitRunning(t, e, id)
	time.Sleep(time.Second) // the guest's shell sets its trap after the boot
	e.ok("stop", id)
	if r := e.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", id); r.stdout != "exited 3\n" {
		t.Errorf("vm: after stop: %s", r)
	}
	restartAndKill(t, e, id)
}
