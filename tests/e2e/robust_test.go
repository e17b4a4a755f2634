//go:build linux

package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/internal/testutil"
)

// fillDisk writes path until the filesystem is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64*1024)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", path, err)
			}
			break
		}
	}
	// The last partial blocks too.
	for _, n := range []int{4096, 512, 1} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
}

// Issue 12 item 4: with --root on a full 4 MiB tmpfs the exit code was lost
// (wait failed with ENOSPC, ps said stopped) and rm -f left driver state
// and cgroups. The monitor reserves room for exit.json when it starts, and
// keeps the status in memory if even that fails.
func TestFullRoot(t *testing.T) {
	e := newEnv(t)
	if err := unix.Mount("tmpfs", e.root, "tmpfs", 0, "size=4m,mode=0700"); err != nil {
		t.Fatalf("mount a tmpfs as the root: %v", err)
	}
	t.Cleanup(func() {
		e.cleanup()
		_ = unix.Unmount(e.root, unix.MNT_DETACH)
		os.Remove(e.root)
	})
	rfs := rootfs(t)
	exiting := uniqueID("fe")
	running := uniqueID("fr")
	// Bundles: their root is used as it is (a root filesystem directory
	// would get an overlay, with its upper layer on the full root, and
	// would not see /go appear below it).
	e.ok("run", "-d", "--name", exiting, testutil.Bundle(t, testutil.Spec(rfs, "sh", "-c", "while [ ! -e /go ]; do sleep 0.05; done; echo bye; exit 7")))
	e.ok("run", "-d", "--name", running, testutil.Bundle(t, testutil.Spec(rfs, "sh", "-c", "while true; do echo tick; sleep 0.05; done")))
	fillDisk(t, filepath.Join(e.root, "fill"))

	if err := os.WriteFile(filepath.Join(rfs, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.wantCode(7, "wait", exiting)
	e.wantCode(7, "wait", exiting) // again: the status is not consumed
	if l := psLine(e, exiting, "-a"); !strings.Contains(l, "exited (7)") {
		t.Errorf("ps -a on a full root: %q, want exited (7)", l)
	}
	e.ok("rm", "-f", running)
	assertNothingOf(t, e, running)
	e.ok("rm", "-f", exiting)
	assertNothingOf(t, e, exiting)
	if mons := monitorPids(e.root, ""); len(mons) > 0 {
		t.Errorf("monitors left: %v", mons)
	}
}

// Issue 12 item 9: a secret given with -e was readable by any local user
// (config.json 0644, the monitor's JSON config on its command line). State
// files are 0600 and directories 0700; no argv carries it.
func TestSecretsUnreadable(t *testing.T) {
	e := newEnv(t)
	// As /run/rtd is: root's, 0755 above it.
	if err := os.Chmod(e.root, 0o755); err != nil {
		t.Fatal(err)
	}
	id := uniqueID("sec")
	e.ok("run", "-d", "--name", id, "-e", "SECRET_TOKEN=hunter2", rootfs(t), "sleep", "100")
	// An exec whose secret comes from rtd's environment (rtd's own
	// command line is the caller's business).
	ex := e.command(nil, "exec", "-e", "EXEC_TOKEN", id, "sleep", "100")
	ex.Env = append(ex.Env, "EXEC_TOKEN=hunter3")
	if err := ex.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ex.Process.Kill(); _ = ex.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, _ := filepath.Glob(filepath.Join(e.root, "drivers", "linux", "c", id, "exec", "*", "pid"))
		if len(m) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the exec did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}

	known := []string{
		filepath.Join(e.root, "containers", id, "record.json"),
		filepath.Join(e.root, "containers", id, "bundle", "config.json"),
		filepath.Join(e.root, "drivers", "linux", "c", id, "request.json"),
	}
	script := fmt.Sprintf(`grep -rs 'hunte[r][23]' %s; cat %s 2>/dev/null | grep 'hunte[r][23]'
for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do tr '\0' ' ' < $f 2>/dev/null; echo; done | grep 'hunte[r][23]'
true`, e.root, strings.Join(known, " "))
	cmd := exec.CommandContext(e.ctx, "/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as nobody: %v: %s", err, out)
	}
	if strings.Contains(string(out), "hunter") {
		t.Errorf("an unprivileged user read the secret:\n%s", out)
	}
	// Every file and directory under the root is the owner's alone, or
	// inside a directory that is (libcontainer makes its own 0711 ones).
	private := map[string]bool{}
	_ = filepath.WalkDir(e.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == e.root {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if fi.Mode().Perm()&0o077 == 0 {
			private[path] = true
		}
		if private[filepath.Dir(path)] {
			private[path] = true
			return nil
		}
		if !private[path] {
			t.Errorf("%s is %v in a directory others can enter", path, fi.Mode())
		}
		return nil
	})
	e.ok("rm", "-f", id)
}

// Issue 12 item 13: `rtd run --rm ... | head -2` killed rtd with SIGPIPE,
// the container stalled on its full pipe and its record stayed (ps:
// unknown, with --log-level=debug 2>&1). rtd now survives, the output goes
// on to the container's log, and --rm removes the container at its exit.
func TestRunRmClosedStdout(t *testing.T) {
	e := newEnv(t)
	fs := rootfs(t)
	for i := 0; i < 3; i++ {
		id := uniqueID(fmt.Sprintf("sp%d", i))
		cmd := e.command(nil, "--log-level=debug", "run", "--rm", "--name", id, fs,
			"sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done; exit 3")
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = pw, pw
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		sc := bufio.NewScanner(pr)
		for n := 0; n < 2 && sc.Scan(); n++ {
		}
		pr.Close() // | head -2 exits
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("rtd run --rm did not end after its stdout was closed")
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			t.Fatalf("rtd was killed by %v when its stdout was closed", ws.Signal())
		}
		if code := exitCode(err); code != 3 {
			t.Errorf("rtd run exited %d, want the container's 3", code)
		}
		if r := e.ok("ps", "-a"); strings.Count(r.stdout, "\n") != 1 {
			t.Errorf("ps -a after run --rm:\n%s", r.stdout)
		}
		assertNothingOf(t, e, id)
	}
}
