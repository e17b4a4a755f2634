package proc

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestPidRecordAlive(t *testing.T) {
	self := os.Getpid()
	st, err := ProcessStartTime(self)
	if err != nil {
		t.Fatal(err)
	}
	if !(PidRecord{Pid: self, StartTime: st}).Alive() {
		t.Error("this process is not alive")
	}
	if (PidRecord{Pid: self, StartTime: st + 1}).Alive() {
		t.Error("a reused pid (other start time) counts as alive")
	}
	// A child that exited and was not waited for is a zombie: not alive.
	cmd := exec.Command("/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cst, err := ProcessStartTime(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	rec := PidRecord{Pid: cmd.Process.Pid, StartTime: cst}
	deadline := time.Now().Add(5 * time.Second)
	for rec.Alive() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if rec.Alive() {
		t.Error("a zombie counts as alive")
	}
	_ = cmd.Wait()
	if rec.Alive() {
		t.Error("a reaped process counts as alive")
	}
	path := filepath.Join(t.TempDir(), "pid")
	if err := WritePidFile(path, self); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadPidFile(path); err != nil || got != (PidRecord{Version: FormatVersion, Pid: self, StartTime: st}) {
		t.Errorf("pid file round trip: %v, %v; want pid %d start %d", got, err, self, st)
	}
}
