package linux

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/driver/drivertest"
	"github.com/rtd-project/rtd/kit/monitor/proc"
)

// A monitor re-executes into the small rtd-monitor binary once its
// workload exists, except when the workload of an attached, non-interactive
// container ends within the quick-exit window: then it watches it to its
// end itself (one Go runtime start less per short container, issue 22).
// Output ends the window at once (it is pumped as soon as it is written), a
// detached container (output to a file) never waits, and a workload that
// outlives the window gets rtd-monitor. Output and exit codes arrive in
// every case. The window counts from Start, so a Start that comes late
// still gets it. RTD_MONITOR names a wrapper that records each re-execution.
func TestQuickExitSkipsReexec(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	real := drivertest.Build(t, "github.com/rtd-project/rtd/cmd/rtd-monitor", drivertest.BuildOptions{})
	marks := filepath.Join(dir, "reexecuted")
	wrap := filepath.Join(dir, "wrap")
	// Builtins only: a child of the wrapper's shell could make it reap the
	// workload, which is its child too.
	script := "#!/bin/sh\necho \"$2\" >> " + marks + "\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(wrap, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(proc.WatchBinaryEnv, wrap)
	d := newTestDriver(t)
	rootfs := busyboxRootfs(t)
	cases := []struct {
		id, window, cmd string
		detached        bool
		startAfter      time.Duration // between Create and Start
		code            uint32
		out             string
		reexec          bool
	}{
		{id: "quick", window: "30s", cmd: "exit 3", code: 3},
		{id: "output", window: "30s", cmd: "echo hi; sleep 1; exit 4", code: 4, out: "hi\n", reexec: true},
		{id: "detached", window: "30s", cmd: "echo file; exit 5", code: 5, out: "file\n", detached: true, reexec: true},
		{id: "outlives", window: "100ms", cmd: "sleep 1; exit 6", code: 6, reexec: true},
		// The window counts from Start (libcontainer's exec.fifo going
		// away), not from Create's start report.
		{id: "latestart", window: "300ms", cmd: "exit 7", startAfter: time.Second, code: 7},
		// Output closed without data is no output: the exit that
		// follows it still counts.
		{id: "closed", window: "30s", cmd: "exec >&-; sleep 0.3; exit 8", code: 8},
	}
	for _, c := range cases {
		t.Setenv(proc.QuickExitEnv, c.window)
		var outPath string
		var got <-chan []byte
		if c.detached {
			outPath = filepath.Join(t.TempDir(), "log")
		} else {
			outPath, got = fifoReader(t, "out")
		}
		if c.startAfter > 0 {
			bundle := writeBundle(t, testSpec(rootfs, "sh", "-c", c.cmd))
			if _, err := d.Create(ctx, &driver.CreateRequest{ID: c.id, Bundle: bundle, Stdio: driver.Stdio{Stdout: outPath}}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(c.startAfter)
			if err := d.Start(ctx, c.id); err != nil {
				t.Fatal(err)
			}
		} else {
			startContainer(t, ctx, d, c.id, testSpec(rootfs, "sh", "-c", c.cmd), driver.Stdio{Stdout: outPath})
		}
		exit, err := d.Wait(ctx, &driver.WaitRequest{ID: c.id})
		if err != nil || exit.Code != c.code {
			t.Fatalf("%s: wait = %+v, %v; want code %d", c.id, exit, err, c.code)
		}
		var out []byte
		if c.detached {
			out, _ = os.ReadFile(outPath)
		} else {
			out = <-got
		}
		if string(out) != c.out {
			t.Errorf("%s: output %q, want %q", c.id, out, c.out)
		}
		data, _ := os.ReadFile(marks)
		reexec := false
		for _, l := range strings.Fields(string(data)) {
			reexec = reexec || filepath.Base(l) == c.id
		}
		if reexec != c.reexec {
			t.Errorf("%s: re-executed into rtd-monitor: %v, want %v", c.id, reexec, c.reexec)
		}
		if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: c.id}); err != nil {
			t.Fatalf("%s: delete: %v", c.id, err)
		}
	}
}
