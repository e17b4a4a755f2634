//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTopStatsUpdate: top lists the container's processes from the host's
// /proc; stats --no-stream prints one table with what the driver measured;
// update changes a running container's limits (seen by stats and inspect).
func TestTopStatsUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fs := rootfs(t)
	id := uniqueID("top")
	e.ok("run", "-d", "--name", id, fs, "sh", "-c", "sleep 1000 & wait")
	waitRunning(t, e, id)
	r := e.ok("top", id)
	if !strings.HasPrefix(r.stdout, "UID") || !strings.Contains(r.stdout, "sleep 1000") || !strings.Contains(r.stdout, "sh -c sleep 1000 & wait") {
		t.Errorf("top: %s", r)
	}
	e.ok("update", "--memory", "64m", "--pids-limit", "50", id)
	r = e.ok("stats", "--no-stream", id)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "CONTAINER ID") || !strings.Contains(lines[1], "/ 64MiB") || !strings.HasSuffix(lines[1], " 2") {
		t.Errorf("stats --no-stream after update --memory 64m (two processes): %s", r)
	}
	if r := e.ok("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}"); r.stdout != id+" 2\n" {
		t.Errorf("stats --format (running containers): %s", r)
	}
	if r := e.ok("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}", id); r.stdout != "67108864 50\n" {
		t.Errorf("inspect after update: %s", r)
	}
	e.ok("stop", "-t", "0", id)
	if r := e.rtd("top", id); r.code != 1 || !strings.Contains(r.stderr, "is not running") {
		t.Errorf("top of a stopped container: %s", r)
	}
	e.ok("rm", id)
	wantOneLineError(t, e, e.wantCode(1, "update", "nosuch-"+id), "give at least one")
}

// TestExecDetachAttachEvents: exec -d runs in the background; attach shows
// output from now on and exits with the container's code; events replays
// the lifecycle in docker's words.
func TestExecDetachAttachEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fs := rootfs(t)
	id := uniqueID("att")
	e.ok("run", "-d", "--name", id, fs, "sh", "-c", "echo before; while [ ! -e /tmp/go ]; do echo tick; sleep 0.2; done; echo after; exit 4")
	for deadline := time.Now().Add(time.Minute); !strings.Contains(e.ok("logs", id).stdout, "before"); {
		if time.Now().After(deadline) {
			t.Fatal("the container printed nothing in a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// attach, and once its output flows, let the container end.
	cmd := e.command(nil, "attach", id)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	var seen []string
	for lines.Scan() && lines.Text() != "tick" {
		seen = append(seen, lines.Text())
	}
	if r := e.ok("exec", "-d", id, "sh", "-c", "touch /tmp/go"); r.stdout != "" {
		t.Errorf("exec -d prints nothing: %s", r)
	}
	for lines.Scan() {
		seen = append(seen, lines.Text())
	}
	code := exitCode(cmd.Wait())
	if got := strings.Join(seen, " "); code != 4 || !strings.Contains(got, "after") || strings.Contains(got, "before") {
		t.Errorf("attach: want the output from now on and exit 4: exit %d, output %q, stderr %q", code, got, stderr.String())
	}
	if r := e.rtd("attach", id); r.code != 1 || !strings.Contains(r.stderr, "cannot attach to a stopped container") {
		t.Errorf("attach to a stopped container: %s", r)
	}
	e.ok("rm", id)
	r := e.ok("events", "--since", "5m", "--until", "0s", "--filter", "container="+id, "--format", "{{.Action}}")
	if got := strings.Fields(r.stdout); strings.Join(got, " ") != "create start exec_start exec_die die destroy" {
		t.Errorf("events: %q", got)
	}
	r = e.ok("events", "--since", "5m", "--until", "0s", "--filter", "container="+id, "--filter", "event=die")
	if !strings.Contains(r.stdout, "container die "+id) || !strings.Contains(r.stdout, "exitCode=4") {
		t.Errorf("events --filter event=die: %s", r)
	}
}

// TestCp: both ways, files and trees, symlinks copied as links, and a
// symlink inside the container never leads the copy out of its root.
func TestCp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fs := rootfs(t)
	id := uniqueID("cp")
	e.ok("run", "-d", "--name", id, fs, "sleep", "1000")
	host := t.TempDir()
	if err := os.MkdirAll(filepath.Join(host, "tree", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "tree", "sub", "f"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/hostname", filepath.Join(host, "tree", "link")); err != nil {
		t.Fatal(err)
	}
	e.ok("cp", filepath.Join(host, "tree"), id+":/tmp/")
	if r := e.ok("exec", id, "sh", "-c", "cat /tmp/tree/sub/f; readlink /tmp/tree/link"); r.stdout != "hello/etc/hostname\n" {
		t.Errorf("cp host tree into the container: %s", r)
	}
	e.ok("cp", filepath.Join(host, "tree", "sub", "f"), id+":/tmp/renamed")
	if r := e.ok("exec", id, "cat", "/tmp/renamed"); r.stdout != "hello" {
		t.Errorf("cp a file to a new name: %s", r)
	}
	e.ok("exec", id, "sh", "-c", "mkdir /tmp/out && echo inside > /tmp/out/g && ln -s / /tmp/escape")
	e.ok("cp", id+":/tmp/out", filepath.Join(host, "back"))
	if b, err := os.ReadFile(filepath.Join(host, "back", "g")); err != nil || string(b) != "inside\n" {
		t.Errorf("cp a container tree to the host: %q %v", b, err)
	}
	// /tmp/escape -> / inside: the copy lands in the container's root.
	marker := "rtd-cp-escape-" + id
	e.ok("cp", filepath.Join(host, "tree", "sub", "f"), id+":/tmp/escape/"+marker)
	if _, err := os.Stat("/" + marker); err == nil {
		os.Remove("/" + marker)
		t.Fatalf("cp followed a container symlink out of its root: /%s was written on the host", marker)
	}
	if r := e.rtd("exec", id, "cat", "/"+marker); r.code != 0 || r.stdout != "hello" {
		t.Errorf("cp through /tmp/escape did not land in the container's root: %s", r)
	}
	if r := e.rtd("cp", id+":/nope", host); r.code != 1 || !strings.Contains(r.stderr, "no such file or directory") {
		t.Errorf("cp of a missing path: %s", r)
	}
	if r := e.rtd("cp", host, filepath.Join(host, "x")); r.code != 1 {
		t.Errorf("cp without a container: %s", r)
	}
	e.ok("rm", "-f", id)
}

// TestLogsTail: logs --tail N prints the last N lines (a last line without
// a newline counts), 0 none, all everything.
func TestLogsTail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := uniqueID("tail")
	e.ok("run", "-d", "--name", id, rootfs(t), "sh", "-c", "for i in 1 2 3 4 5; do echo l$i; done; printf end")
	e.ok("wait", id)
	for tail, want := range map[string]string{"0": "", "1": "end", "2": "l5\nend", "9": "l1\nl2\nl3\nl4\nl5\nend", "all": "l1\nl2\nl3\nl4\nl5\nend"} {
		if r := e.ok("logs", "--tail", tail, id); r.stdout != want {
			t.Errorf("logs --tail %s: %q, want %q", tail, r.stdout, want)
		}
	}
	if r := e.rtd("logs", "-n", "x", id); r.code != 125 || !strings.Contains(r.stderr, "invalid --tail") {
		t.Errorf("logs -n x: %s", r)
	}
	e.ok("rm", id)
}
