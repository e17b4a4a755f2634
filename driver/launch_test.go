package driver_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
)

func TestLaunchMissingBinary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rtd-driver-nope")
	_, err := driver.Launch(testContext(t), path, driver.LaunchOptions{})
	if !errdefs.IsNotFound(err) {
		t.Fatalf("launch of a missing binary = %v, want NotFound", err)
	}
	if !strings.Contains(err.Error(), `driver "nope"`) || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the driver and its path", err)
	}
}

func TestLaunchExitsAtOnce(t *testing.T) {
	_, err := driver.Launch(testContext(t), testDriverPath, driver.LaunchOptions{
		Name: "linux", Env: []string{"RTD_TESTDRIVER_MODE=exit"},
	})
	if !errdefs.IsUnavailable(err) {
		t.Fatalf("launch = %v, want Unavailable", err)
	}
	for _, want := range []string{
		`driver "linux" (` + testDriverPath + `) exited before the handshake`,
		"configured to exit at once",
		"plain stderr line before exit",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestLaunchNotADriver(t *testing.T) {
	_, err := driver.Launch(testContext(t), testDriverPath, driver.LaunchOptions{
		Env: []string{"RTD_TESTDRIVER_MODE=print"},
	})
	if !errdefs.IsUnavailable(err) || !strings.Contains(err.Error(), "not an rtd driver") {
		t.Fatalf("launch of a non-driver = %v, want Unavailable saying it is not an rtd driver", err)
	}
}

func TestLaunchHandshakeTimeout(t *testing.T) {
	begin := time.Now()
	_, err := driver.Launch(testContext(t), testDriverPath, driver.LaunchOptions{
		Env: []string{"RTD_TESTDRIVER_MODE=hang"}, StartTimeout: 300 * time.Millisecond,
	})
	if !errdefs.IsUnavailable(err) || !strings.Contains(err.Error(), "did not complete the handshake") {
		t.Fatalf("launch of a hanging driver = %v, want Unavailable", err)
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("launch took %v", took)
	}

	// A cancelled ctx ends the start too, with the ctx error.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = driver.Launch(ctx, testDriverPath, driver.LaunchOptions{Env: []string{"RTD_TESTDRIVER_MODE=hang"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("launch with an expiring ctx = %v, want context.DeadlineExceeded", err)
	}
}

// TestCrashMidCall checks that a driver process dying during a call gives
// Unavailable with its last log lines, and so does every later call.
func TestCrashMidCall(t *testing.T) {
	ctx := testContext(t)
	p := launchProcess(t, "", driver.LaunchOptions{Name: "crashy"})
	c := p.Client()
	if p.Pid() <= 0 {
		t.Errorf("pid = %d", p.Pid())
	}
	if _, err := c.Create(ctx, &driver.CreateRequest{ID: "boom", Annotations: map[string]string{"testdriver/crash": "1"}}); err != nil {
		t.Fatalf("create: %v", err)
	}
	err := c.Start(ctx, "boom")
	if !errdefs.IsUnavailable(err) {
		t.Fatalf("start of a crashing driver = %v, want Unavailable", err)
	}
	if !p.Exited() {
		t.Error("Exited() = false after the crash")
	}
	for _, want := range []string{`driver "crashy"`, "exited during start", "crashing on purpose"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := c.State(ctx, "boom"); !errdefs.IsUnavailable(err) || !strings.Contains(err.Error(), "crashing on purpose") {
		t.Errorf("call after the crash = %v, want Unavailable with the last log lines", err)
	}
	if err := c.Events(ctx, func(*driver.Event) error { return nil }); !errdefs.IsUnavailable(err) {
		t.Errorf("events after the crash = %v, want Unavailable", err)
	}
}

// TestLogsAndSocketDir checks that driver log lines reach the host logger
// tagged with the driver name and the ring buffer, and that the socket lives
// in a private directory under SocketDir that Close removes.
func TestLogsAndSocketDir(t *testing.T) {
	logger, buf := newJSONLogger(hclog.Debug)
	sockDir := filepath.Join(t.TempDir(), "sockets")
	p, err := driver.Launch(testContext(t), testDriverPath, driver.LaunchOptions{
		Name: "logger", Logger: logger, SocketDir: sockDir,
	})
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	defer p.Close()
	c := p.Client()

	if _, err := c.Info(testContext(t)); err != nil {
		t.Fatalf("info: %v", err)
	}
	lines := p.LastLogLines()
	if len(lines) == 0 || !strings.Contains(strings.Join(lines, "\n"), "info: test driver serving") {
		t.Errorf("last log lines = %q, want the driver's startup line", lines)
	}
	// Plain writes to os.Stderr after Serve arrive through go-plugin's stdio
	// stream, asynchronously.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(strings.Join(p.LastLogLines(), "\n"), "info called (plain stderr)") {
		if time.Now().After(deadline) {
			t.Fatalf("last log lines %q lack the driver's plain stderr line", p.LastLogLines())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The host logger gets the same line on its own path: wait for it too.
	for !strings.Contains(buf.String(), "info called (plain stderr)") {
		if time.Now().After(deadline) {
			t.Fatalf("host log lacks the driver's plain stderr line:\n%s", buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var found bool
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.Contains(line, `"test driver serving"`) && strings.Contains(line, `"driver":"logger"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("host log lacks the driver's line tagged driver=logger:\n%s", buf.String())
	}

	fi, err := os.Stat(sockDir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket dir: %v, mode %v; want 0700", err, fi.Mode())
	}
	entries, _ := os.ReadDir(sockDir)
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "driver-logger-") {
		t.Fatalf("socket dir holds %v, want one driver-logger-* dir", entries)
	}
	sub := filepath.Join(sockDir, entries[0].Name())
	socks, _ := os.ReadDir(sub)
	if len(socks) != 1 || socks[0].Type()&os.ModeSocket == 0 {
		t.Errorf("private socket dir holds %v, want one socket", socks)
	}

	p.Close()
	if !p.Exited() {
		t.Error("Exited() = false after Close")
	}
	if _, err := os.Stat(sub); !os.IsNotExist(err) {
		t.Errorf("socket dir %s left behind after Close (%v)", sub, err)
	}
	if _, err := c.Info(testContext(t)); !errdefs.IsUnavailable(err) {
		t.Errorf("info after Close = %v, want Unavailable", err)
	}
}
