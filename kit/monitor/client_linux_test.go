//go:build linux

package monitor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/monitor/proc"
)

// workload starts a long sleep standing for a monitored workload and
// registers it in a fresh process dir of layout l, as a monitor does.
func workload(t *testing.T, l Layout, id string) (dir string, cmd *exec.Cmd) {
	t.Helper()
	dir = l.ProcDir(id, "")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	writeRecord(t, filepath.Join(dir, "pid"), cmd.Process.Pid)
	return dir, cmd
}

func writeRecord(t *testing.T, path string, pid int) {
	t.Helper()
	st, err := proc.ProcessStartTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(fmt.Sprintf("%d %d", pid, st)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func alive(t *testing.T, cmd *exec.Cmd) bool {
	t.Helper()
	st, err := proc.ProcessStartTime(cmd.Process.Pid)
	return err == nil && PidRecord{Pid: cmd.Process.Pid, StartTime: st}.Alive()
}

// A monitor that does not answer on its control socket while its
// monitor.pid is still being written (empty) and its dir locked is
// starting, not lost: Wait must not kill the workload as "monitor lost"
// (137) but return the status the monitor records.
func TestWaitStartingMonitorNotLost(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	dir, cmd := workload(t, l, "starting")
	// The monitor holds the dir's lock and has written monitor.pid only
	// partly; its control socket does not answer yet.
	unlock, err := proc.LockDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, proc.MonitorPidFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type result struct {
		st  *driver.ExitStatus
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := Wait(ctx, l, "starting", "")
		done <- result{st, err}
	}()
	time.Sleep(300 * time.Millisecond)
	// The monitor (this live test process stands for it) finishes its
	// start, then records the workload's exit.
	writeRecord(t, filepath.Join(dir, proc.MonitorPidFile), os.Getpid())
	unlock()
	time.Sleep(300 * time.Millisecond)
	if !alive(t, cmd) {
		t.Fatal("the workload was killed while its monitor was starting")
	}
	if err := WriteExit(dir, &driver.ExitStatus{Code: 7}); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.st.Code != 7 {
		t.Fatalf("Wait: want the recorded exit 7, got %+v, %v", r.st, r.err)
	}
	if !alive(t, cmd) {
		t.Error("the workload was killed")
	}
	if st := Check(ctx, l, "starting", ""); st == nil || st.Code != 7 {
		t.Errorf("Check: want the recorded exit 7, got %+v", st)
	}
}

// A monitor that really died without recording an exit status is lost:
// Wait kills the workload and records 137 "monitor lost".
func TestWaitDeadMonitorLost(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	dir, cmd := workload(t, l, "dead")
	mon := exec.Command("sleep", "60")
	if err := mon.Start(); err != nil {
		t.Fatal(err)
	}
	writeRecord(t, filepath.Join(dir, proc.MonitorPidFile), mon.Process.Pid)
	mon.Process.Kill()
	mon.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := Wait(ctx, l, "dead", "")
	if err != nil || st.Code != 137 {
		t.Fatalf("Wait: want 137 monitor lost, got %+v, %v", st, err)
	}
	if rec := ReadExit(dir); rec == nil || rec.Code != 137 {
		t.Errorf("exit.json: want 137, got %+v", rec)
	}
	if alive(t, cmd) {
		t.Error("the workload of a lost monitor is still running")
	}
}
