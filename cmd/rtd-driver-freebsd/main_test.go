//go:build linux

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/conformance"
	"github.com/rtd-project/rtd/driver"
)

// buildDriver compiles this command, as `make build` does (static, no cgo).
func buildDriver(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rtd-driver-freebsd")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestPluginOnLinux launches the real binary through go-plugin: it must say
// why it is not ready and refuse every call with NotImplemented.
func TestPluginOnLinux(t *testing.T) {
	bin := buildDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := driver.Launch(ctx, bin, driver.LaunchOptions{
		StateDir:  t.TempDir(),
		SocketDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := p.Client()
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Health.Ready || info.Health.Reason != "requires freebsd (this is linux)" ||
		info.Isolation.Class != driver.IsolationProcess || !info.Isolation.SharesHostKernel {
		t.Errorf("info %+v", info)
	}
	_, err = c.Create(ctx, &driver.CreateRequest{ID: "x", Bundle: t.TempDir()})
	if !errdefs.IsNotImplemented(err) || !strings.Contains(err.Error(), "linux") {
		t.Errorf("create: %v, want NotImplemented naming the OS", err)
	}
	if err := c.Kill(ctx, &driver.KillRequest{ID: "x", Signal: 9}); !errdefs.IsNotImplemented(err) {
		t.Errorf("kill: %v", err)
	}
}

// TestConformanceReportsNotReady runs the suite against the binary: it must
// report "not ready" with the reason, pass the INFO cases and pass nothing
// else (no case may pass vacuously against a driver that cannot run).
func TestConformanceReportsNotReady(t *testing.T) {
	bin := buildDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := conformance.RunSuite(ctx, conformance.Config{Driver: bin})
	if err != nil {
		t.Fatal(err)
	}
	checkNotReady(t, rep, "requires freebsd")
}

func checkNotReady(t *testing.T, rep *conformance.Report, reason string) {
	t.Helper()
	if rep.Ready || !strings.Contains(rep.Health, reason) {
		t.Errorf("report: ready=%v health=%q, want not ready: %s", rep.Ready, rep.Health, reason)
	}
	if len(rep.Results) == 0 {
		t.Fatal("no case ran")
	}
	for _, r := range rep.Results {
		info := strings.HasPrefix(r.ID, "INFO-")
		switch {
		case info && r.Result != conformance.Pass:
			t.Errorf("%s %s: %s (%s)", r.ID, r.Level, r.Result, r.Message)
		case !info && r.Result != conformance.Skip:
			t.Errorf("%s %s: %s against a driver that is not ready (%s)", r.ID, r.Level, r.Result, r.Message)
		}
	}
	t.Log(rep.Summary())
}
