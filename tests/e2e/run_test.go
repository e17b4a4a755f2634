//go:build linux

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtd-project/rtd/internal/testutil"
)

func TestRunHello(t *testing.T) {
	e := newEnv(t)
	r := e.ok("run", "--rm", "hello")
	for _, want := range []string{"Hello from rtd!", "pid 1:               yes", "processes in /proc:  1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q: %s", want, r)
		}
	}
	if r.stderr != "" {
		t.Errorf("stderr not empty: %s", r)
	}
	if recs := e.records(); len(recs) != 0 {
		t.Errorf("--rm left records: %v", recs)
	}
}

func TestRunExitCode(t *testing.T) {
	e := newEnv(t)
	fs := rootfs(t)
	e.wantCode(42, "run", "--rm", fs, "sh", "-c", "exit 42")
	e.wantCode(0, "run", "--rm", fs, "true")
	if recs := e.records(); len(recs) != 0 {
		t.Errorf("--rm left records: %v", recs)
	}
}

// SIGTERM to an attached rtd run goes to the container.
func TestRunForwardsSignals(t *testing.T) {
	e := newEnv(t)
	cmd := e.command(nil, "run", "--rm", rootfs(t), "sh", "-c", `trap "echo got-term; exit 143" TERM; echo ready; while :; do sleep 0.1; done`)
	var out testutil.SyncBuffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "ready") {
		if time.Now().After(deadline) {
			t.Fatal("the container did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if code := exitCode(err); code != 143 || !strings.Contains(out.String(), "got-term") {
		t.Fatalf("exit %d, output %q; want 143 and got-term", code, out.String())
	}
	if recs := e.records(); len(recs) != 0 {
		t.Errorf("--rm left records: %v", recs)
	}
}

func TestRunCommandNotFound(t *testing.T) {
	e := newEnv(t)
	r := e.wantCode(127, "run", "--rm", rootfs(t), "no-such-command")
	if strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "no-such-command") {
		t.Errorf("want one line naming the command: %s", r)
	}
	if recs := e.records(); len(recs) != 0 {
		t.Errorf("left records: %v", recs)
	}
}

func TestRunStdin(t *testing.T) {
	e := newEnv(t)
	r := e.rtdIn(strings.NewReader("hi\n"), "run", "--rm", "-i", rootfs(t), "cat")
	if r.code != 0 || r.stdout != "hi\n" {
		t.Fatalf("want hi: %s", r)
	}
}

func TestRunStdoutAndStderr(t *testing.T) {
	e := newEnv(t)
	r := e.ok("run", "--rm", rootfs(t), "sh", "-c", "echo out; echo err >&2")
	if r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("streams mixed up: %s", r)
	}
}

func TestRunProcessOptions(t *testing.T) {
	e := newEnv(t)
	fs := rootfs(t)
	r := e.ok("run", "--rm", "-e", "FOO=bar", "-w", "/tmp", "-u", "1000:1000", fs, "sh", "-c", `echo "$FOO"; pwd; id -u; id -g`)
	if r.stdout != "bar\n/tmp\n1000\n1000\n" {
		t.Errorf("-e -w -u: %s", r)
	}
	r = e.ok("run", "--rm", "-u", "alice", fs, "id", "-u")
	if r.stdout != "1000\n" {
		t.Errorf("-u alice: %s", r)
	}
	r = e.ok("run", "--rm", "--hostname", "box", fs, "hostname")
	if r.stdout != "box\n" {
		t.Errorf("--hostname: %s", r)
	}
	id := uniqueID("host")
	r = e.ok("run", "--rm", "--name", id, fs, "hostname")
	if r.stdout != id[:12]+"\n" {
		t.Errorf("default hostname: %s, want %s", r, id[:12])
	}
	r = e.ok("run", "--rm", "-t", fs, "tty")
	if !strings.HasPrefix(r.stdout, "/dev/pts/") {
		t.Errorf("-t: %s", r)
	}
}

func TestRunReadOnly(t *testing.T) {
	e := newEnv(t)
	fs := rootfs(t)
	r := e.rtd("run", "--rm", "--read-only", fs, "touch", "/x")
	if r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") {
		t.Fatalf("touch / on a read-only root: %s", r)
	}
	if _, err := os.Stat(filepath.Join(fs, "x")); err == nil {
		t.Fatal("the file was created in the rootfs")
	}
	// Without --read-only the root is writable, on the container's own
	// overlay: the directory is not written (docs/images.md).
	e.ok("run", "--rm", fs, "sh", "-c", "touch /x && test -e /x")
	if _, err := os.Stat(filepath.Join(fs, "x")); err == nil {
		t.Fatal("the container wrote into the root filesystem directory")
	}
}

func TestRunResources(t *testing.T) {
	e := newEnv(t)
	r := e.ok("run", "--rm", "--memory", "64m", "--pids-limit", "50", rootfs(t), "sh", "-c",
		`cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max
		 cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max`)
	if r.stdout != "67108864\n50\n" {
		t.Fatalf("want the limits 67108864 and 50 in the container's cgroup: %s", r)
	}
}

func TestRunLargeOutput(t *testing.T) {
	e := newEnv(t)
	const size = 50 << 20
	// The container hashes what it writes to stdout and reports the hash
	// on stderr.
	r := e.ok("run", "--rm", rootfs(t), "sh", "-c",
		`mkfifo /dev/shm/p || exit 1
		 sha256sum < /dev/shm/p >&2 &
		 head -c 52428800 /dev/urandom | tee /dev/shm/p
		 wait`)
	if len(r.stdout) != size {
		t.Fatalf("received %d bytes, want %d (stderr %q)", len(r.stdout), size, r.stderr)
	}
	sum := sha256.Sum256([]byte(r.stdout))
	fields := strings.Fields(r.stderr)
	if len(fields) == 0 || fields[0] != hex.EncodeToString(sum[:]) {
		t.Fatalf("sha256 received %x, container wrote %q", sum, r.stderr)
	}
}
