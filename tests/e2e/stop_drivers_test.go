//go:build linux

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rtd-project/rtd/drivers/vm"
)

// TestStopRestartGvisor: stop and restart through runsc, as on linux.
func TestStopRestartGvisor(t *testing.T) {
	t.Parallel()
	needRunsc(t)
	testStopRestart(t, newEnv(t), "gvisor", rootfs(t))
}

var (
	vmBuildOnce sync.Once
	vmBuildErr  error
)

// needVMDriver skips without QEMU or the guest kernel (make deps installs
// both) and builds the vm driver and its guest agent next to rtd once.
func needVMDriver(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not found: make deps installs it")
	}
	dir := os.Getenv(vm.KernelDirEnv)
	if dir == "" {
		dir = vm.DefaultKernelDir
	}
	if _, err := os.Stat(filepath.Join(dir, "vmlinux")); err != nil {
		t.Skipf("no guest kernel in %s: run hack/vm-kernel.sh (make deps)", dir)
	}
	vmBuildOnce.Do(func() {
		for _, b := range []struct {
			out  string
			args []string
			cgo  string
		}{
			{"rtd-driver-vm", []string{"./cmd/rtd-driver-vm"}, "0"},
			{"rtd-vm-agent", []string{"-tags", "seccomp,osusergo,netgo", "./drivers/vm/cmd/rtd-vm-agent"}, "1"},
		} {
			args := append([]string{"build", "-o", filepath.Join(binDir, b.out)}, b.args...)
			cmd := exec.Command("go", args...)
			cmd.Dir = filepath.Join("..", "..")
			cmd.Env = append(os.Environ(), "CGO_ENABLED="+b.cgo)
			if out, err := cmd.CombinedOutput(); err != nil {
				vmBuildErr = err
				t.Logf("go %v: %s", args, out)
				return
			}
		}
	})
	if vmBuildErr != nil {
		t.Fatalf("building the vm driver: %v", vmBuildErr)
	}
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
	e.ok("restart", id)
	if r := e.ok("inspect", "-f", "{{.State.Status}}", id); r.stdout != "running\n" {
		t.Errorf("vm: after restart: %s", r)
	}
	e.ok("stop", "-t", "0", id)
	if r := e.ok("inspect", "-f", "{{.State.ExitCode}}", id); r.stdout != "137\n" {
		t.Errorf("vm: stop -t 0: want 137: %s", r)
	}
	e.ok("rm", id)
}
