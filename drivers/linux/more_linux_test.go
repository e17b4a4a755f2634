package linux

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// fifoReader creates a FIFO and returns a channel with everything read from it.
func fifoReader(t *testing.T, name string) (string, <-chan []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	ch := make(chan []byte, 1)
	go func() {
		data, _ := os.ReadFile(path)
		ch <- data
	}()
	return path, ch
}

func startContainer(t *testing.T, ctx context.Context, d *Driver, id string, spec *specs.Spec, stdio driver.Stdio) {
	t.Helper()
	if _, err := d.Create(ctx, &driver.CreateRequest{ID: id, Bundle: writeBundle(t, spec), Stdio: stdio}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Delete(context.Background(), &driver.DeleteRequest{ID: id, Force: true}) })
	if err := d.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
}

func TestLargeOutputArrivesIntact(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d := newTestDriver(t)
	rootfs := busyboxRootfs(t)
	stdout, got := fifoReader(t, "out")
	errPath := filepath.Join(t.TempDir(), "err")
	spec := testSpec(rootfs, "sh", "-c", "head -c 52428800 /dev/urandom | tee /tmp/data; sha256sum /tmp/data >&2")
	spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
	startContainer(t, ctx, d, "big", spec, driver.Stdio{Stdout: stdout, Stderr: errPath})
	exit, err := d.Wait(ctx, &driver.WaitRequest{ID: "big"})
	if err != nil || exit.Code != 0 {
		t.Fatalf("wait: %+v %v", exit, err)
	}
	data := <-got
	sum := sha256.Sum256(data)
	inside, _ := os.ReadFile(errPath)
	if len(data) != 52428800 || !strings.HasPrefix(string(inside), hex.EncodeToString(sum[:])) {
		t.Fatalf("got %d bytes, sha %x; inside: %s", len(data), sum, inside)
	}
}

func TestStdinAndExec(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := newTestDriver(t)
	rootfs := busyboxRootfs(t)
	stdinPath := filepath.Join(t.TempDir(), "in")
	if err := syscall.Mkfifo(stdinPath, 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, got := fifoReader(t, "out")
	startContainer(t, ctx, d, "cat", testSpec(rootfs, "sh", "-c", "cat; sleep 0.2; echo done"), driver.Stdio{Stdin: stdinPath, Stdout: stdout})

	execOut, execGot := fifoReader(t, "execout")
	proc := &specs.Process{Args: []string{"sh", "-c", "echo exec:$$; exit 3"}, Cwd: "/", Env: []string{"PATH=/bin"}}
	if _, err := d.Exec(ctx, &driver.ExecRequest{ID: "cat", ExecID: "e1", Process: proc, Stdio: driver.Stdio{Stdout: execOut}}); err != nil {
		t.Fatal(err)
	}
	exit, err := d.Wait(ctx, &driver.WaitRequest{ID: "cat", ExecID: "e1"})
	if err != nil || exit.Code != 3 {
		t.Fatalf("exec wait: %+v %v", exit, err)
	}
	if out := string(<-execGot); !strings.HasPrefix(out, "exec:") || out == "exec:1\n" {
		t.Fatalf("exec output %q: want a pid other than 1", out)
	}

	w, err := os.OpenFile(stdinPath, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "hello stdin\n")
	w.Close()
	if st, err := d.Wait(ctx, &driver.WaitRequest{ID: "cat"}); err != nil || st.Code != 0 {
		t.Fatalf("wait: %+v %v", st, err)
	}
	if out := string(<-got); out != "hello stdin\ndone\n" {
		t.Fatalf("stdout %q", out)
	}
}

func TestOOMAndStatsAndPause(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := newTestDriver(t)
	rootfs := busyboxRootfs(t)
	spec := testSpec(rootfs, "sleep", "1000")
	limit := int64(64 << 20)
	pids := int64(20)
	spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}, Pids: &specs.LinuxPids{Limit: &pids}}
	startContainer(t, ctx, d, "res", spec, driver.Stdio{})
	st, err := d.Stats(ctx, "res")
	if err != nil || st.MemoryLimitBytes != uint64(limit) || st.PidsLimit != 20 || st.PidsCurrent < 1 {
		t.Fatalf("stats %+v %v", st, err)
	}
	if err := d.Pause(ctx, "res"); err != nil {
		t.Fatal(err)
	}
	if s, _ := d.State(ctx, "res"); s.Status != driver.StatusPaused {
		t.Fatalf("status %s, want paused", s.Status)
	}
	if err := d.Resume(ctx, "res"); err != nil {
		t.Fatal(err)
	}
	proc := &specs.Process{Args: []string{"sh", "-c", "mkdir -p /tmp && mount -t tmpfs none /tmp 2>/dev/null; head -c 200000000 /dev/zero | tail"}, Cwd: "/", Env: []string{"PATH=/bin"}}
	if _, err := d.Exec(ctx, &driver.ExecRequest{ID: "res", ExecID: "hog", Process: proc}); err != nil {
		t.Fatal(err)
	}
	exit, err := d.Wait(ctx, &driver.WaitRequest{ID: "res", ExecID: "hog"})
	if err != nil || exit.Code != 137 {
		t.Fatalf("memory hog: %+v %v; want killed (137)", exit, err)
	}
	d.Kill(ctx, &driver.KillRequest{ID: "res", Signal: 9})
	init, err := d.Wait(ctx, &driver.WaitRequest{ID: "res"})
	if err != nil || !init.OOMKilled {
		t.Fatalf("init exit %+v %v: want oom_killed recorded for the container", init, err)
	}
}

func TestSurvivesDriverRestart(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	state := t.TempDir()
	d1 := New(Options{StateDir: state})
	startContainer(t, ctx, d1, "s", testSpec(busyboxRootfs(t), "sh", "-c", "sleep 0.3; exit 7"), driver.Stdio{})
	d2 := New(Options{StateDir: state}) // a new driver process knows nothing in memory
	list, err := d2.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "s" {
		t.Fatalf("list %v %v", list, err)
	}
	exit, err := d2.Wait(ctx, &driver.WaitRequest{ID: "s"})
	if err != nil || exit.Code != 7 {
		t.Fatalf("wait %+v %v", exit, err)
	}
}
