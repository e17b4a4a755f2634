//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtd-project/rtd/internal/testutil"
)

// psLine returns the line of `rtd ps` (with args) for id, "" if none.
func psLine(e *env, id string, args ...string) string {
	e.t.Helper()
	r := e.ok(append([]string{"ps"}, args...)...)
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == id {
			return l
		}
	}
	return ""
}

func TestDetachedSurvivesDriverKill(t *testing.T) {
	e := newEnv(t)
	id := uniqueID("x")
	r := e.ok("run", "-d", "--name", id, rootfs(t), "sleep", "1000")
	if strings.TrimSpace(r.stdout) != id {
		t.Fatalf("run -d prints the id: %s", r)
	}
	if l := psLine(e, id); !strings.Contains(l, "running") {
		t.Fatalf("ps: %q, want running", l)
	}
	// The container's monitor has re-executed into the small rtd-monitor
	// binary next to the driver (it keeps the workload as its child).
	mons := monitorPids(e.root, id)
	if len(mons) != 1 {
		t.Fatalf("%d monitors for %s, want 1", len(mons), id)
	}
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", mons[0])); exe != filepath.Join(binDir, "rtd-monitor") {
		t.Errorf("monitor %d runs %q, want %s", mons[0], exe, filepath.Join(binDir, "rtd-monitor"))
	}

	// A wait in progress, served by a driver process that gets killed.
	var waitOut, waitErr testutil.SyncBuffer
	waitCmd := e.startWait(id, &waitOut, &waitErr)
	if n := killDrivers(t, e.root); n == 0 {
		t.Fatal("found no driver process to kill")
	}

	if l := psLine(e, id); !strings.Contains(l, "running") {
		t.Fatalf("after killing the drivers, ps: %q, want running", l)
	}
	e.ok("kill", "-s", "KILL", id)
	e.wantCode(137, "wait", id)

	waitDone := make(chan error, 1)
	go func() { waitDone <- waitCmd.Wait() }()
	select {
	case err := <-waitDone:
		if code := exitCode(err); code != 137 {
			t.Errorf("the wait whose driver was killed exited %d, want 137; stdout %q stderr %q", code, waitOut.String(), waitErr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the wait whose driver was killed did not return")
	}

	if l := psLine(e, id, "-a"); !strings.Contains(l, "exited (137)") {
		t.Errorf("ps -a: %q, want exited (137)", l)
	}
	if l := psLine(e, id); l != "" {
		t.Errorf("ps without -a shows a stopped container: %q", l)
	}
	e.ok("rm", id)
	assertNoLeaks(t, e, id)
}

func TestRmForce(t *testing.T) {
	e := newEnv(t)
	id := uniqueID("f")
	e.ok("run", "-d", "--name", id, rootfs(t), "sleep", "1000")
	r := e.rtd("rm", id)
	if r.code == 0 || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("rm of a running container must fail with one line: %s", r)
	}
	e.ok("rm", "-f", id)
	assertNoLeaks(t, e, id)
}

func TestExec(t *testing.T) {
	e := newEnv(t)
	id := uniqueID("e")
	e.ok("run", "-d", "--name", id, rootfs(t), "sleep", "1000")
	r := e.wantCode(7, "exec", id, "sh", "-c", "echo from-exec; exit 7")
	if r.stdout != "from-exec\n" {
		t.Errorf("exec output: %s", r)
	}
	r = e.ok("exec", "-e", "A=1", "-w", "/bin", "-u", "1000", id, "sh", "-c", `echo "$A"; pwd; id -u`)
	if r.stdout != "1\n/bin\n1000\n" {
		t.Errorf("exec -e -w -u: %s", r)
	}
	r = e.rtdIn(strings.NewReader("piped\n"), "exec", "-i", id, "cat")
	if r.code != 0 || r.stdout != "piped\n" {
		t.Errorf("exec -i: %s", r)
	}
	e.wantCode(126, "exec", id, "no-such-command") // docker exec: 126 for every command that cannot start
	e.ok("rm", "-f", id)
	assertNoLeaks(t, e, id)
}

func TestLogsAndInspect(t *testing.T) {
	e := newEnv(t)
	id := uniqueID("l")
	e.ok("run", "-d", "--name", id, "--label", "team=qa", rootfs(t), "sh", "-c", "echo hello-log; exit 3")
	e.wantCode(3, "wait", id)
	r := e.ok("logs", id)
	if r.stdout != "hello-log\n" {
		t.Errorf("logs: %s", r)
	}
	r = e.ok("inspect", id)
	var out []struct {
		Record struct {
			ID     string            `json:"id"`
			Labels map[string]string `json:"labels"`
		} `json:"record"`
		State struct {
			Status string `json:"status"`
			Exit   struct {
				Code int `json:"code"`
			} `json:"exit"`
		} `json:"state"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 {
		t.Fatalf("inspect JSON: %v: %s", err, r)
	}
	if out[0].Record.ID != id || out[0].Record.Labels["team"] != "qa" || out[0].State.Status != "stopped" || out[0].State.Exit.Code != 3 {
		t.Errorf("inspect: %+v", out[0])
	}
	if l := psLine(e, id, "-a"); !strings.Contains(l, "exited (3)") {
		t.Errorf("ps -a: %q", l)
	}
	e.ok("rm", id)
	assertNoLeaks(t, e, id)
}

func TestCreateStart(t *testing.T) {
	e := newEnv(t)
	r := e.ok("create", rootfs(t), "sh", "-c", "echo started; exit 5")
	id := strings.TrimSpace(r.stdout)
	if l := psLine(e, id, "-a"); !strings.Contains(l, "created") {
		t.Errorf("ps -a after create: %q", l)
	}
	r = e.wantCode(5, "start", "-a", id)
	if r.stdout != "started\n" {
		t.Errorf("start -a: %s", r)
	}
	e.ok("rm", id)
	assertNoLeaks(t, e, id)

	// A container never started is removed without -f.
	id = strings.TrimSpace(e.ok("create", rootfs(t), "true").stdout)
	e.ok("rm", id)
	assertNoLeaks(t, e, id)
}

func TestDrivers(t *testing.T) {
	e := newEnv(t)
	r := e.ok("drivers")
	if !strings.HasPrefix(r.stdout, "NAME") || !strings.Contains(r.stdout, "linux") || !strings.Contains(r.stdout, "ready") {
		t.Errorf("drivers: %s", r)
	}
	r = e.ok("drivers", "--json")
	var ds []struct {
		Name   string `json:"name"`
		Health struct {
			Ready bool `json:"Ready"`
		} `json:"health"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ds); err != nil {
		t.Fatalf("drivers --json: %v: %s", err, r)
	}
	linuxReady := false
	for _, d := range ds {
		linuxReady = linuxReady || (d.Name == "linux" && d.Health.Ready)
	}
	if !linuxReady {
		t.Errorf("drivers --json does not list linux as ready: %s", r)
	}
	if pids := driverPids(e.root); len(pids) != 0 {
		t.Errorf("driver processes left after rtd drivers: %v", pids)
	}
}

// ^C on rtd wait ends it (exit 130) and the driver process it launched.
func TestWaitInterrupted(t *testing.T) {
	e := newEnv(t)
	id := uniqueID("i")
	e.ok("run", "-d", "--name", id, rootfs(t), "sleep", "1000")
	var stderr testutil.SyncBuffer
	cmd := e.startWait(id, nil, &stderr)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(cmd.Wait()); code != 130 || stderr.String() != "" {
		t.Errorf("interrupted wait: exit %d, stderr %q; want 130 and nothing", code, stderr.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(driverPids(e.root)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if pids := driverPids(e.root); len(pids) > 0 {
		t.Errorf("driver processes left after an interrupted wait: %v", pids)
	}
	if l := psLine(e, id); !strings.Contains(l, "running") {
		t.Errorf("the container must keep running: %q", l)
	}
	e.ok("rm", "-f", id)
	assertNoLeaks(t, e, id)
}

// Concurrent runs with the same --name: exactly one wins, the others get
// one line saying the container exists, and the winner is unharmed.
func TestConcurrentSameName(t *testing.T) {
	e := newEnv(t)
	fs := rootfs(t)
	id := uniqueID("c")
	const n = 5
	results := make(chan result, n)
	for range n {
		go func() {
			cmd := e.command(nil, "run", "-d", "--name", id, fs, "sleep", "1000")
			var stdout, stderr testutil.SyncBuffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			results <- result{stdout: stdout.String(), stderr: stderr.String(), code: exitCode(err)}
		}()
	}
	won := 0
	for range n {
		r := <-results
		switch {
		case r.code == 0:
			won++
		case r.code != 125 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "already exists"):
			t.Errorf("a losing run: %s", r)
		}
	}
	if won != 1 {
		t.Fatalf("%d runs won, want 1", won)
	}
	if l := psLine(e, id); !strings.Contains(l, "running") {
		t.Fatalf("the winner is not running: %q", l)
	}
	e.ok("rm", "-f", id)
	assertNoLeaks(t, e, id)
}
