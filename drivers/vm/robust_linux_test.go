//go:build linux

package vm_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/monitor/proc"
)

// TestMonitorKilledRecordsLostExit: as for the other drivers (containerd's
// dead shim), a vm monitor that dies takes its VM along (QEMU has
// Pdeathsig), and the next call records the exit as lost: 137 killed, with
// the reason, never an unexplained 255.
func TestMonitorKilledRecordsLostExit(t *testing.T) {
	d, state := launch(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := startReady(ctx, t, d, "orphan", "sleep 600")
	dir := filepath.Join(state, "c", c.id)
	mon, err := proc.ReadPidFile(filepath.Join(dir, "monitor.pid"))
	if err != nil || mon.Pid <= 0 {
		t.Fatalf("monitor.pid: %+v, %v", mon, err)
	}
	if err := syscall.Kill(mon.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	exit, err := d.Wait(ctx, &driver.WaitRequest{ID: c.id})
	if err != nil {
		t.Fatal(err)
	}
	if exit.Code != 137 || exit.Signal != 9 || !strings.Contains(exit.Reason, "monitor lost") {
		t.Fatalf("exit %+v, want 137 (signal 9) with the reason monitor lost", exit)
	}
	if st, err := d.State(ctx, c.id); err != nil || st.Status != driver.StatusStopped || st.Exit == nil || st.Exit.Code != 137 {
		t.Fatalf("state %+v, %v: want stopped with the lost exit", st, err)
	}
	if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: c.id}); err != nil {
		t.Fatal(err)
	}
	if left := processesWith(dir); len(left) > 0 {
		t.Errorf("processes left: %v", left)
	}
}

// TestFullStateDirKeepsExitStatus: the monitor reserves room for exit.json
// before the workload runs, so a state dir filled up meanwhile does not cost
// the exit code (docs/robustness.md, "The root fills up").
func TestFullStateDirKeepsExitStatus(t *testing.T) {
	needVM(t)
	state := t.TempDir()
	if err := syscall.Mount("tmpfs", state, "tmpfs", 0, "size=128m,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs (not root?): %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(state, syscall.MNT_DETACH) })
	p, err := driver.Launch(context.Background(), buildOnce(t), driver.LaunchOptions{StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	d := p.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := startReady(ctx, t, d, "full", "sleep 3; exit 7")
	fill, err := os.Create(filepath.Join(state, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for {
		if _, err := fill.Write(buf); err != nil {
			break
		}
	}
	for _, small := range []int{4096, 512, 1} { // the last blocks too
		for {
			if _, err := fill.Write(buf[:small]); err != nil {
				break
			}
		}
	}
	fill.Close()
	// Ask only once the monitor is gone, so the status must come from disk.
	mon, _ := proc.ReadPidFile(filepath.Join(state, "c", c.id, "monitor.pid"))
	for mon.Pid > 0 && syscall.Kill(mon.Pid, 0) == nil {
		if ctx.Err() != nil {
			t.Fatal("the monitor did not exit")
		}
		time.Sleep(50 * time.Millisecond)
	}
	exit, err := d.Wait(ctx, &driver.WaitRequest{ID: c.id})
	if err != nil {
		t.Fatal(err)
	}
	if exit.Code != 7 {
		t.Fatalf("exit %+v on a full state dir, want code 7", exit)
	}
	if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: c.id}); err != nil {
		t.Fatal(err)
	}
}
