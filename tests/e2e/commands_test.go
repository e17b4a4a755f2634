//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStopRestart: stop sends the stop signal, then SIGKILL after -t; a
// container that handles SIGTERM ends with its own code; --stop-signal and
// --stop-timeout are recorded and used; restart runs it again; stopping a
// stopped container is fine (docker: no error).
func TestStopRestart(t *testing.T) {
	t.Parallel()
	testStopRestart(t, newEnv(t), "linux", rootfs(t))
}

func testStopRestart(t *testing.T, e *env, drv, fs string) {
	// Handles SIGTERM: exits 3 at once.
	polite := uniqueID("polite")
	e.ok("run", "-d", "--driver", drv, "--name", polite, fs, "sh", "-c", `trap "exit 3" TERM; while :; do sleep 0.1; done`)
	waitRunning(t, e, polite)
	start := time.Now()
	if r := e.ok("stop", polite); r.stdout != polite+"\n" {
		t.Errorf("stop prints the name: %s", r)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("stop of a container that exits on SIGTERM took %s", d)
	}
	if r := e.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", polite); r.stdout != "exited 3\n" {
		t.Errorf("after stop: %s", r)
	}
	e.ok("stop", polite) // already stopped: no error
	// Restart runs it again, with its output in the log.
	restartAndKill(t, e, polite)

	// Ignores SIGTERM: killed after the recorded --stop-timeout.
	stubborn := uniqueID("stubborn")
	e.ok("run", "-d", "--driver", drv, "--name", stubborn, "--stop-timeout", "1", fs, "sh", "-c", `trap "" TERM; while :; do sleep 0.1; done`)
	waitRunning(t, e, stubborn)
	start = time.Now()
	e.ok("stop", stubborn)
	if d := time.Since(start); d < time.Second || d > 8*time.Second {
		t.Errorf("stop did not use the --stop-timeout of 1s (the default is 10s): %s", d)
	}
	if r := e.ok("inspect", "-f", "{{.State.ExitCode}}", stubborn); r.stdout != "137\n" {
		t.Errorf("after the timeout: want 137: %s", r)
	}
	e.ok("rm", stubborn)

	// --stop-signal: exits on USR1 only.
	usr := uniqueID("usr1")
	e.ok("run", "-d", "--driver", drv, "--name", usr, "--stop-signal", "USR1", fs, "sh", "-c", `trap "exit 7" USR1; trap "" TERM; while :; do sleep 0.1; done`)
	waitRunning(t, e, usr)
	e.ok("stop", "-t", "20", usr)
	if r := e.ok("inspect", "-f", "{{.State.ExitCode}} {{.Config.StopSignal}}", usr); r.stdout != "7 USR1\n" {
		t.Errorf("--stop-signal USR1: %s", r)
	}
	e.ok("rm", usr)
}

// waitRunning waits until the container's shell has set its traps (a
// signal before that would end it with the default action).
func waitRunning(t *testing.T, e *env, id string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if r := e.ok("inspect", "-f", "{{.State.Status}}", id); r.stdout == "running\n" {
			time.Sleep(300 * time.Millisecond)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never ran", id)
}

// restartAndKill restarts the stopped container id, which must run again,
// stops it with -t 0, which must kill it (SIGKILL: exit 137), and removes
// it.
func restartAndKill(t *testing.T, e *env, id string) {
	t.Helper()
	e.ok("restart", id)
	if r := e.ok("inspect", "-f", "{{.State.Status}}", id); r.stdout != "running\n" {
		t.Errorf("after restart: %s", r)
	}
	e.ok("stop", "-t", "0", id)
	if r := e.ok("inspect", "-f", "{{.State.ExitCode}}", id); r.stdout != "137\n" {
		t.Errorf("stop -t 0: want SIGKILL (137): %s", r)
	}
	e.ok("rm", id)
}

// TestPauseRenamePsInspect: pause/unpause, rename, ps -q/--filter/--format
// /--no-trunc, inspect --format with docker's field names.
func TestPauseRenamePsInspect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fs := rootfs(t)
	id := uniqueID("pz")
	e.ok("run", "-d", "--name", id, "-l", "tier=web", fs, "sh", "-c", "while :; do sleep 0.1; done # a long command line for no-trunc")
	e.ok("pause", id)
	if r := e.ok("inspect", "-f", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}", id); r.stdout != "paused true true\n" {
		t.Errorf("after pause: %s", r)
	}
	if r := e.ok("ps", "-q", "--filter", "status=paused"); r.stdout != id+"\n" {
		t.Errorf("ps -q --filter status=paused: %s", r)
	}
	e.ok("unpause", id)
	if r := e.ok("ps", "-q", "--filter", "status=paused"); r.stdout != "" {
		t.Errorf("after unpause, ps --filter status=paused: %s", r)
	}
	other := uniqueID("done")
	e.ok("run", "--name", other, fs, "true")
	if r := e.ok("ps", "-a", "-q", "--filter", "label=tier=web"); r.stdout != id+"\n" {
		t.Errorf("--filter label=tier=web: %s", r)
	}
	if r := e.ok("ps", "-a", "-q", "--filter", "exited=0"); r.stdout != other+"\n" {
		t.Errorf("--filter exited=0: %s", r)
	}
	if r := e.ok("ps", "--format", "{{.ID}}|{{.State}}|{{.Label \"tier\"}}"); r.stdout != id+"|running|web\n" {
		t.Errorf("ps --format: %s", r)
	}
	if r := e.ok("ps", "--format", "table {{.ID}}\t{{.Driver}}"); !strings.HasPrefix(r.stdout, "CONTAINER ID") || !strings.Contains(r.stdout, id) {
		t.Errorf("ps --format table: %s", r)
	}
	if r := e.ok("ps", "--no-trunc"); !strings.Contains(r.stdout, "no-trunc") {
		t.Errorf("ps --no-trunc cut the command: %s", r)
	}
	if r := e.ok("ps"); strings.Contains(r.stdout, "no-trunc") {
		t.Errorf("ps without --no-trunc shows the whole long command: %s", r)
	}
	e.ok("rename", id, "renamed-"+id)
	if r := e.ok("inspect", "-f", "{{.Name}} {{.Id}} {{.Config.Labels}}", "renamed-"+id); r.stdout != "/renamed-"+id+" "+id+" map[tier:web]\n" {
		t.Errorf("after rename: %s", r)
	}
	if r := e.rtd("rename", "renamed-"+id, other); r.code != 1 || !strings.Contains(r.stderr, "already in use") {
		t.Errorf("rename to a taken name: %s", r)
	}
	if r := e.rtd("inspect", "-f", "{{.Nope}}", other); r.code == 0 {
		t.Errorf("inspect -f with an unknown field: %s", r)
	}
	e.ok("rm", "-f", "renamed-"+id, other)
}

// TestRunDockerFlags: --entrypoint, --env-file, --init, --ulimit, --cpus.
func TestRunDockerFlags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fs := rootfs(t)
	if r := e.ok("run", "--rm", "--entrypoint", "echo", fs, "a", "b"); r.stdout != "a b\n" {
		t.Errorf("--entrypoint echo IMAGE a b: %s", r)
	}
	envFile := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(envFile, []byte("# comment\nA=1\n\n  B=two words\nC=from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.ok("run", "--rm", "--env-file", envFile, "-e", "C=from-flag", fs, "sh", "-c", `echo "$A|$B|$C"`); r.stdout != "1|two words|from-flag\n" {
		t.Errorf("--env-file (and -e over it): %s", r)
	}
	// --init: pid 1 is rtd's init, the command its child; signals reach it.
	r := e.ok("run", "--rm", "--init", fs, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$")
	if lines := strings.Split(r.stdout, "\n"); !strings.HasPrefix(lines[0], "/dev/rtd-init -- sh") || lines[1] == "1" {
		t.Errorf("--init: pid 1 and the shell's pid: %s", r)
	}
	if r := e.rtd("run", "--rm", "--init", fs, "sh", "-c", "exit 5"); r.code != 5 {
		t.Errorf("--init passes the exit code on: %s", r)
	}
	id := uniqueID("init")
	e.ok("run", "-d", "--init", "--name", id, fs, "sleep", "100")
	waitRunning(t, e, id)
	start := time.Now()
	e.ok("stop", "-t", "10", id) // sleep has no handler: SIGTERM through init ends it at once
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("--init did not forward SIGTERM: stop took %s", d)
	}
	if r := e.ok("inspect", "-f", "{{.State.ExitCode}}", id); r.stdout != "143\n" {
		t.Errorf("--init: SIGTERM'd child: %s", r)
	}
	e.ok("rm", id)
	if r := e.ok("run", "--rm", "--ulimit", "nofile=100:200", fs, "sh", "-c", "ulimit -n; ulimit -Hn"); r.stdout != "100\n200\n" {
		t.Errorf("--ulimit nofile=100:200: %s", r)
	}
	id = uniqueID("cpus")
	e.ok("create", "--name", id, "--cpus", "0.5", fs, "true")
	if r := e.ok("inspect", "-f", "{{.HostConfig.NanoCpus}}", id); r.stdout != "500000000\n" {
		t.Errorf("--cpus 0.5: %s", r)
	}
	e.ok("rm", id)
	wantOneLineError(t, e, e.wantCode(125, "run", "--rm", "--ulimit", "nofile=x", fs, "true"), "invalid --ulimit")
	wantOneLineError(t, e, e.wantCode(125, "run", "--rm", "--env-file", "/nonexistent/env", fs, "true"), "--env-file")
}

// TestVersion: rtd --version is one line; rtd version and its --format.
func TestVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if r := e.ok("--version"); !strings.HasPrefix(r.stdout, "rtd version ") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("--version: %s", r)
	}
	if r := e.ok("version"); !strings.Contains(r.stdout, "Driver contract:") {
		t.Errorf("version: %s", r)
	}
	if r := e.ok("version", "--format", "{{.ContractVersion}}"); r.stdout != "1\n" {
		t.Errorf("version --format: %s", r)
	}
}
