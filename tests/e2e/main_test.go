//go:build linux

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtd-project/rtd/internal/testutil"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// testTimeout bounds each test, so that a hang fails instead of blocking.
const testTimeout = 3 * time.Minute

var (
	binDir   string // holds rtd and rtd-driver-linux
	rtdBin   string
	buildErr error
)

func TestMain(m *testing.M) {
	os.Exit(testutil.BinMain(m, "rtd-e2e-bin-", &buildErr, func(dir string) error {
		// Readable by nobody, for the non-root case.
		_ = os.Chmod(dir, 0o755)
		binDir, rtdBin = dir, filepath.Join(dir, "rtd")
		return testutil.BuildBinaries(dir, append([]testutil.Binary{testutil.Rtd, testutil.DriverWasm}, testutil.LinuxDrivers...)...)
	}))
}

// env is one test's rtd installation: its own --root and a deadline.
type env struct {
	t    *testing.T
	root string
	ctx  context.Context
	// extraEnv is added to every rtd command's environment.
	extraEnv []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	testutil.NeedRoot(t)
	testutil.TrackSources(t)
	if buildErr != nil {
		t.Fatalf("building the binaries failed: %v", buildErr)
	}
	// Short: unix socket paths under the root are limited to 108 bytes.
	root, err := os.MkdirTemp("", "rtde")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	e := &env{t: t, root: root, ctx: ctx}
	t.Cleanup(func() {
		cancel()
		e.cleanup()
	})
	return e
}

// cleanup removes whatever a failed test left: containers (rm -f), then
// the root.
func (e *env) cleanup() {
	entries, _ := os.ReadDir(filepath.Join(e.root, "containers"))
	for _, ent := range entries {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, rtdBin, "--root", e.root, "rm", "-f", ent.Name())
		cmd.Env = e.environ()
		if out, err := cmd.CombinedOutput(); err != nil {
			e.t.Logf("cleanup: rtd rm -f %s: %v: %s", ent.Name(), err, out)
		}
		cancel()
	}
	for _, pid := range monitorPids(e.root, "") {
		e.t.Logf("cleanup: killing leftover monitor %d", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	os.RemoveAll(e.root)
	// The root's parent cgroup (/rtd/<hash of the root>), empty once its
	// containers are removed; rtd leaves it, as it leaves /rtd.
	parents, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", filepath.Dir(ocispec.CgroupsPath(e.root, "x"))))
	for _, p := range parents {
		_ = os.Remove(p)
	}
}

func (e *env) environ() []string {
	// One driver process per command, as these tests assume (they look for
	// the driver serving a command); warm drivers have their own tests,
	// which set RTD_DRIVER_IDLE in extraEnv (later wins).
	out := []string{"RTD_DRIVER_IDLE=0"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RTD_") {
			out = append(out, kv)
		}
	}
	return append(out, e.extraEnv...)
}

// result is a finished rtd command.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("rtd %s: exit %d\nstdout: %q\nstderr: %q", strings.Join(r.args, " "), r.code, shortOut(r.stdout), shortOut(r.stderr))
}

func shortOut(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "..."
	}
	return s
}

func (e *env) command(stdin io.Reader, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(e.ctx, rtdBin, append([]string{"--root", e.root}, args...)...)
	cmd.Env = e.environ()
	cmd.Stdin = stdin
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// rtd runs rtd with args and no stdin.
func (e *env) rtd(args ...string) result { return e.rtdIn(nil, args...) }

// rtdIn runs rtd with args and stdin.
func (e *env) rtdIn(stdin io.Reader, args ...string) result {
	e.t.Helper()
	cmd := e.command(stdin, args...)
	return e.finish(cmd, args)
}

func (e *env) finish(cmd *exec.Cmd, args []string) result {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String(), code: exitCode(err)}
	if e.ctx.Err() != nil {
		e.t.Fatalf("timed out (test deadline %s): %s", testTimeout, r)
	}
	return r
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// ok runs rtd and fails the test unless it exits 0.
func (e *env) ok(args ...string) result {
	e.t.Helper()
	r := e.rtd(args...)
	if r.code != 0 {
		e.t.Fatalf("want exit 0: %s", r)
	}
	return r
}

// wantCode runs rtd and fails the test unless it exits with code.
func (e *env) wantCode(code int, args ...string) result {
	e.t.Helper()
	r := e.rtd(args...)
	if r.code != code {
		e.t.Fatalf("want exit %d: %s", code, r)
	}
	return r
}

// records lists the record directories under the root.
func (e *env) records() []string {
	entries, _ := os.ReadDir(filepath.Join(e.root, "containers"))
	var names []string
	for _, ent := range entries {
		names = append(names, ent.Name())
	}
	return names
}

// rootfs returns a busybox root filesystem with a user alice (1000:1000).
func rootfs(t *testing.T) string {
	dir := testutil.BusyboxRootfs(t)
	if err := os.WriteFile(filepath.Join(dir, "etc", "passwd"),
		[]byte("root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "group"), []byte("root:x:0:\nalice:x:1000:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// uniqueID returns a container id no other test uses, so that leak checks
// by id cannot match another test's container.
func uniqueID(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), time.Now().UnixNano()%1_000_000_000)
}

func readProc(pid int, name string) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), name))
	return string(b)
}

// driverPids finds the rtd-driver-linux processes serving root: the
// driver binary (comm is cut to 15 characters) with root's state dir in
// its environment. Monitors rename themselves and are not included.
func driverPids(root string) []int {
	want := "RTD_DRIVER_STATE_DIR=" + filepath.Join(root, "drivers", "linux")
	var out []int
	for _, pid := range testutil.Pids() {
		comm := strings.TrimSpace(readProc(pid, "comm"))
		if comm != "rtd-driver-linux" && comm != "rtd-driver-linu" {
			continue
		}
		for _, kv := range strings.Split(readProc(pid, "environ"), "\x00") {
			if kv == want {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// monitorPids finds the rtd-monitor processes of root (of container id, if
// not empty): their command line names the state directory.
func monitorPids(root, id string) []int {
	state := filepath.Join(root, "drivers", "linux")
	var out []int
	for _, pid := range testutil.Pids() {
		if strings.TrimSpace(readProc(pid, "comm")) != "rtd-monitor" {
			continue
		}
		args := strings.Split(strings.TrimRight(readProc(pid, "cmdline"), "\x00"), "\x00")
		if !containsPrefix(args, state) {
			continue
		}
		if id == "" || containsPrefix(args, filepath.Join(state, "c", id)) {
			out = append(out, pid)
		}
	}
	return out
}

func containsPrefix(args []string, prefix string) bool {
	for _, a := range args {
		if a == prefix || strings.HasPrefix(a, prefix+"/") {
			return true
		}
	}
	return false
}

// killDrivers SIGKILLs every driver process of root and waits until they
// are gone; it returns how many it killed.
func killDrivers(t *testing.T, root string) int {
	t.Helper()
	pids := driverPids(root)
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Logf("kill %d: %v", pid, err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for {
			st := readProc(pid, "stat")
			if st == "" || strings.Contains(st, ") Z ") || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return len(pids)
}

// startWait starts rtd wait id with its output to stdout and stderr and
// returns once a driver process serves it (and its Wait call had time to
// reach the driver).
func (e *env) startWait(id string, stdout, stderr io.Writer) *exec.Cmd {
	e.t.Helper()
	cmd := e.command(nil, "wait", id)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(driverPids(e.root)) == 0 {
		if time.Now().After(deadline) {
			e.t.Fatal("no driver process serving the wait")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let the Wait call reach the driver
	return cmd
}

// noProcessLeft fails for each process whose command line names the root,
// the drivers' (they exit when idle) excepted.
func (e *env) noProcessLeft() {
	e.t.Helper()
	for _, pid := range testutil.Pids() {
		if cmd := readProc(pid, "cmdline"); strings.Contains(cmd, e.root) && !strings.Contains(cmd, "rtd-driver") {
			e.t.Errorf("process %d left: %q", pid, strings.ReplaceAll(cmd, "\x00", " "))
		}
	}
}

// assertNoLeaks checks that nothing of container id is left: no monitor,
// no record, no cgroup directory, no mount.
func assertNoLeaks(t *testing.T, e *env, id string) {
	t.Helper()
	if pids := monitorPids(e.root, id); len(pids) > 0 {
		t.Errorf("monitor processes of %s left: %v", id, pids)
	}
	if _, err := os.Stat(filepath.Join(e.root, "containers", id)); err == nil {
		t.Errorf("record dir of %s left", id)
	}
	if _, err := os.Stat(filepath.Join(e.root, "drivers", "linux", "c", id)); err == nil {
		t.Errorf("driver state of %s left", id)
	}
	// cgroup v1: one tree per controller; v2: directories of the one tree.
	controllers, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, c := range controllers {
		_ = filepath.WalkDir(c, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if strings.Count(strings.TrimPrefix(p, c), "/") > 4 {
				return filepath.SkipDir
			}
			if strings.Contains(d.Name(), id) {
				t.Errorf("cgroup of %s left: %s", id, p)
				return filepath.SkipDir
			}
			return nil
		})
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(mi), "\n") {
		if strings.Contains(line, id) {
			t.Errorf("mount of %s left: %s", id, line)
		}
	}
}
