//go:build linux

package containerd

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/console"
)

// claims are the capabilities each driver claims today (claims may grow,
// never shrink to pass).
var claims = map[string]struct{ exec, pause, stats, update, pids bool }{ // update: crictl update (ctr has no task update)
	"linux":  {exec: true, pause: true, stats: true, update: true, pids: true},
	"gvisor": {exec: true, pause: true, pids: true},
	"vm":     {exec: true, pause: true, stats: true, update: true, pids: true},
}

// TestCtrTask drives the task service through ctr on each driver: ps,
// exec (output, exit code, stdin, tty), pause/resume, metrics, update,
// kill and kill --all, delete (update goes through crictl: ctr has none).
func TestCtrTask(t *testing.T) {
	d := startContainerd(t)
	d.importImages()
	for _, drv := range rtdHandlers {
		t.Run(drv, func(t *testing.T) {
			d.t = t
			c := claims[drv]
			id := uid("task-" + drv)
			args := append([]string{"run", "-d"}, d.runtimeFlags(drv)...)
			ok(t, d.ctr(append(args, busyboxImage, id, "sleep", "1000")...))
			d.waitStatus(id, "RUNNING")

			if c.pids {
				r := ok(t, d.ctr("task", "ps", id))
				if n := len(strings.Split(strings.TrimSpace(r.stdout), "\n")); n < 2 {
					t.Errorf("ctr task ps lists no process: %s", r)
				}
			}
			if c.exec {
				r := d.ctr("task", "exec", "--exec-id", "e1", id, "sh", "-c", "echo exec-out; exit 3")
				if r.code != 3 || r.stdout != "exec-out\n" {
					t.Errorf("exec: want exit 3 and \"exec-out\\n\": %s", r)
				}
				r = d.run(strings.NewReader("from-stdin\n"), "ctr", "-a", d.sock, "task", "exec", "--exec-id", "e2", id, "cat")
				if r.code != 0 || r.stdout != "from-stdin\n" {
					t.Errorf("exec with stdin: %s", r)
				}
				out, code := d.ctrTTY(t, "task", "exec", "-t", "--exec-id", "e3", id, "sh", "-c", "test -t 0 && test -t 1 && echo is-a-tty; exit 5")
				if code != 5 || !strings.Contains(out, "is-a-tty") {
					t.Errorf("exec -t: want exit 5 and stdin/stdout on a terminal, got exit %d, output %q", code, out)
				}
			}
			if c.pause {
				ok(t, d.ctr("task", "pause", id))
				d.waitStatus(id, "PAUSED")
				ok(t, d.ctr("task", "resume", id))
				d.waitStatus(id, "RUNNING")
			}
			r := d.ctr("task", "metrics", id)
			if c.stats {
				if r.code != 0 || !strings.Contains(r.stdout, "memory") {
					t.Errorf("metrics: %s", r)
				}
			} else if r.code == 0 {
				// containerd's Metrics API drops the shim's error: ctr says
				// "no metrics received".
				t.Errorf("metrics on a driver without stats: want an error: %s", r)
			}
			// kill: SIGTERM ends sleep (pid 1 with no handler ignores it in
			// a pid namespace, so the shell-less sleep needs SIGKILL).
			ok(t, d.ctr("task", "kill", "-s", "SIGKILL", id))
			d.waitStatus(id, "STOPPED")
			r = ok(t, d.ctr("task", "rm", id))
			ok(t, d.ctr("containers", "rm", id))
			assertNoShimState(t, id)

			// kill --all: every process of the container.
			id2 := id + "-all"
			args = append([]string{"run", "-d"}, d.runtimeFlags(drv)...)
			ok(t, d.ctr(append(args, busyboxImage, id2, "sh", "-c", "sleep 1000 & sleep 1000")...))
			d.waitStatus(id2, "RUNNING")
			ok(t, d.ctr("task", "kill", "-a", "-s", "SIGKILL", id2))
			d.waitStatus(id2, "STOPPED")
			ok(t, d.ctr("task", "rm", id2))
			ok(t, d.ctr("containers", "rm", id2))
			assertNoShimState(t, id2)
		})
	}
}

// ctrTTY runs ctr on a new pseudo-terminal and returns what it wrote and
// its exit code.
func (d *daemon) ctrTTY(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return d.ttyRun(t, "ctr", append([]string{"-a", d.sock}, args...)...)
}

// ttyRun runs a containerd tool on a new pseudo-terminal.
func (d *daemon) ttyRun(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	master, slave, err := console.NewPty()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	sf, err := os.OpenFile(slave, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(d.ctx, filepath.Join(cdBin, name), args...)
	cmd.Env = environ()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = sf, sf, sf
	if err := cmd.Start(); err != nil {
		sf.Close()
		t.Fatal(err)
	}
	sf.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, master); close(done) }()
	err = cmd.Wait()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	return out.String(), code
}
