//go:build linux

package driver_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
)

// launchWarm connects to the test driver kept warm in dir.
func launchWarm(t *testing.T, dir string, idle time.Duration, env ...string) *driver.WarmClient {
	t.Helper()
	w, err := driver.LaunchWarm(testContext(t), testDriverPath, driver.LaunchOptions{Name: "test", SocketDir: dir, Env: env}, idle)
	if err != nil {
		t.Fatalf("LaunchWarm: %v", err)
	}
	t.Cleanup(func() {
		w.Close()
		_ = syscall.Kill(w.Pid(), syscall.SIGKILL)
	})
	return w
}

// gone waits until pid has exited, at most limit.
func gone(pid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// A second caller reuses the first caller's driver process, also when
// several start at once; the process ends itself once nobody is connected
// for the idle timeout, and removes its socket.
func TestWarmDriverReusedThenIdle(t *testing.T) {
	dir := t.TempDir()
	const idle = 300 * time.Millisecond
	ws := make([]*driver.WarmClient, 6)
	var wg sync.WaitGroup
	for i := range ws {
		wg.Add(1)
		go func() { defer wg.Done(); ws[i] = launchWarm(t, dir, idle) }()
	}
	wg.Wait()
	pid := ws[0].Pid()
	for i, w := range ws {
		if w.Pid() != pid || pid <= 0 {
			t.Fatalf("caller %d got driver pid %d, caller 0 got %d: want one process", i, w.Pid(), pid)
		}
		if _, err := w.Info(testContext(t)); err != nil {
			t.Fatalf("Info through caller %d: %v", i, err)
		}
	}
	// Connected callers keep it up past the idle timeout.
	time.Sleep(3 * idle)
	if syscall.Kill(pid, 0) != nil {
		t.Fatal("the warm driver exited while callers were connected")
	}
	for _, w := range ws {
		w.Close()
	}
	if !gone(pid, idle+5*time.Second) {
		t.Fatalf("warm driver %d still runs %s after its last caller left", pid, idle+5*time.Second)
	}
	socks, _ := filepath.Glob(filepath.Join(dir, "*.sock"))
	if len(socks) != 0 {
		t.Errorf("sockets left after the warm driver exited: %v", socks)
	}
	// The next caller starts a new one.
	if w := launchWarm(t, dir, idle); w.Pid() == pid {
		t.Errorf("the next caller got the exited driver's pid")
	}
}

// A warm driver whose socket goes away (its root was removed) exits at
// once, without waiting for its idle timeout.
func TestWarmDriverExitsWhenRootRemoved(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "sock")
	w := launchWarm(t, dir, time.Hour)
	pid := w.Pid()
	w.Close()
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if !gone(pid, 5*time.Second) {
		t.Fatalf("warm driver %d still runs 5s after its root was removed", pid)
	}
}

// A warm driver killed with SIGKILL leaves a stale socket; the next caller
// starts a new driver, and a caller of the dead one sees it exited.
func TestWarmDriverKilled(t *testing.T) {
	dir := t.TempDir()
	w := launchWarm(t, dir, time.Hour)
	pid := w.Pid()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !w.Exited() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !w.Exited() {
		t.Fatal("Exited() is false for a killed warm driver")
	}
	if _, err := w.Info(testContext(t)); err == nil {
		t.Fatal("Info through a killed warm driver succeeded")
	}
	w2 := launchWarm(t, dir, time.Hour)
	if w2.Pid() == pid || w2.Exited() {
		t.Fatalf("after the kill: pid %d (was %d), exited %v; want a new live process", w2.Pid(), pid, w2.Exited())
	}
	if _, err := w2.Info(testContext(t)); err != nil {
		t.Fatalf("Info through the new warm driver: %v", err)
	}
}

// The warm driver is in a session of its own (no ^C of the caller's
// terminal reaches it) and another environment gets another process.
func TestWarmDriverSessionAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	w := launchWarm(t, dir, time.Hour)
	sid, err := unix.Getsid(w.Pid())
	if err != nil {
		t.Fatal(err)
	}
	if sid != w.Pid() {
		t.Errorf("warm driver %d is in session %d, want its own", w.Pid(), sid)
	}
	if w2 := launchWarm(t, dir, time.Hour, "RTD_DRIVER_STATE_DIR=/elsewhere"); w2.Pid() == w.Pid() {
		t.Errorf("another environment reused the same warm driver %d", w.Pid())
	}
}

// A driver that does not know warm mode (an older SDK, or not a driver at
// all) is ErrWarmUnsupported, so that the caller launches it per command.
func TestWarmUnsupported(t *testing.T) {
	_, err := driver.LaunchWarm(testContext(t), testDriverPath, driver.LaunchOptions{
		Name: "test", SocketDir: t.TempDir(), Env: []string{"RTD_TESTDRIVER_MODE=print"},
	}, time.Hour)
	if !errors.Is(err, driver.ErrWarmUnsupported) {
		t.Fatalf("LaunchWarm of a non-warm binary = %v, want ErrWarmUnsupported", err)
	}
}

// A warm driver that crashes during a call: Unavailable, with the last
// lines of its log file, as for a launched driver.
func TestWarmDriverCrashMidCall(t *testing.T) {
	ctx := testContext(t)
	w := launchWarm(t, t.TempDir(), time.Hour)
	if _, err := w.Create(ctx, &driver.CreateRequest{ID: "boom", Annotations: map[string]string{"testdriver/crash": "1"}}); err != nil {
		t.Fatalf("create: %v", err)
	}
	err := w.Start(ctx, "boom")
	if !errdefs.IsUnavailable(err) {
		t.Fatalf("start on a crashing warm driver = %v, want Unavailable", err)
	}
	for _, want := range []string{`driver "test"`, "crashing on purpose"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if lines := strings.Join(w.LastLogLines(), "\n"); !strings.Contains(lines, "info: test driver serving") {
		t.Errorf("last log lines = %q, want the driver's startup line", lines)
	}
}

// Starting a warm driver removes the lock and log files of warm drivers
// that no longer run (an older build), and leaves a running one's alone.
func TestWarmDriverSweepsStaleFiles(t *testing.T) {
	dir := t.TempDir()
	other := launchWarm(t, dir, time.Hour, "RTD_DRIVER_STATE_DIR=/other")
	stale := filepath.Join(dir, "warm-test-0123456789abcdef")
	for _, ext := range []string{".lock", ".log"} {
		if err := os.WriteFile(stale+ext, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	launchWarm(t, dir, time.Hour)
	for _, ext := range []string{".lock", ".log"} {
		if _, err := os.Stat(stale + ext); err == nil {
			t.Errorf("stale %s left", stale+ext)
		}
	}
	if _, err := other.Info(testContext(t)); err != nil {
		t.Errorf("the running warm driver broke: %v", err)
	}
	if logs, _ := filepath.Glob(filepath.Join(dir, "*.log")); len(logs) != 2 {
		t.Errorf("log files %v, want the two running drivers'", logs)
	}
}

// The warm driver runs in /, not in the directory of the caller that
// started it (later callers have their own; it must not pin a mount).
func TestWarmDriverWorkingDirectory(t *testing.T) {
	w := launchWarm(t, t.TempDir(), time.Hour)
	cwd, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(w.Pid()), "cwd"))
	if err != nil {
		t.Fatal(err)
	}
	if cwd != "/" {
		t.Errorf("warm driver's working directory %q, want /", cwd)
	}
}

// The warm driver ignores no signal that the monitors and workloads it
// starts would inherit (an ignored SIGPIPE broke QEMU's QMP replies),
// beyond what it inherited from its launcher (this test process: a signal
// its own parent ignores, such as SIGQUIT under a non-interactive shell's
// background job, is not the driver's doing).
func TestWarmDriverIgnoresNoSignal(t *testing.T) {
	w := launchWarm(t, t.TempDir(), time.Hour)
	if _, err := w.Info(testContext(t)); err != nil {
		t.Fatal(err)
	}
	inherited := sigIgn(t, os.Getpid())
	if extra := sigIgn(t, w.Pid()) &^ inherited; extra != 0 {
		t.Errorf("warm driver ignores signals %#x that its launcher does not, want none (children inherit them)", extra)
	}
}

// sigIgn is the SigIgn mask of process pid.
func sigIgn(t *testing.T, pid int) uint64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return mask
		}
	}
	t.Fatal("no SigIgn line in /proc/PID/status")
	return 0
}
