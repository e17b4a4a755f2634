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

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/monitor/proc"
)

// A driver upgraded while its containers run reads the records the driver
// before it wrote, before records had a format version: request.json
// without "Version", the pid file as text "PID STARTTIME", the vm driver's
// monitor.pid as unversioned JSON, exit.json as a bare exit status. The
// bytes below are what that rtd wrote.
func TestReadsUnversionedRecords(t *testing.T) {
	c := &Containers{Layout: Layout{Root: t.TempDir()}, Name: "test"}
	dir := c.Layout.ContainerDir("old")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sleep := exec.Command("sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait() })
	start, err := proc.ProcessStartTime(sleep.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	self, _ := proc.ProcessStartTime(os.Getpid())
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("request.json", `{"ID":"old","Bundle":"/b","Annotations":{"a":"1"},"Stdio":{"Stdin":"","Stdout":"/o","Stderr":"","Terminal":false},"CreatedAt":1700000000000000000}`)
	write("pid", fmt.Sprintf("%d %d", sleep.Process.Pid, start))
	write("monitor.pid", fmt.Sprintf(`{"Pid":%d,"StartTime":%d}`, os.Getpid(), self))

	st, rec, err := c.Record("state", "old")
	if err != nil {
		t.Fatalf("an unversioned request.json and pid file: %v", err)
	}
	if st.Bundle != "/b" || st.Annotations["a"] != "1" || st.CreatedAt.UnixNano() != 1700000000000000000 || int(st.Pid) != sleep.Process.Pid {
		t.Errorf("state from old records: %+v", st)
	}
	if rec == nil || !rec.Alive() || st.Exit != nil {
		t.Errorf("old pid record: %+v, exit %+v; want the live workload, no exit", rec, st.Exit)
	}
	if mon, err := proc.ReadMonitorPid(dir); err != nil || mon.Pid != os.Getpid() || !mon.Alive() {
		t.Errorf("the vm driver's old monitor.pid: %+v, %v", mon, err)
	}
	if got := Check(context.Background(), c.Layout, "old", ""); got != nil {
		t.Errorf("a live monitor's old records are taken for a lost one: %+v", got)
	}

	write("exit.json", `{"Code":3,"Signal":0,"OOMKilled":false,"ExitedAt":"2026-12-01T10:00:00Z","Reason":""}`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	exit, err := c.Wait(ctx, &driver.WaitRequest{ID: "old"})
	if err != nil || exit.Code != 3 || exit.ExitedAt.Year() != 2026 {
		t.Errorf("Wait on an unversioned exit.json: %+v, %v; want code 3", exit, err)
	}
	if st, _, _ := c.Record("state", "old"); st.Status != driver.StatusStopped || st.Exit == nil || st.Exit.Code != 3 {
		t.Errorf("state with an unversioned exit.json: %+v", st)
	}
}

// What this code writes carries the format version, and a record of a
// newer format than this code knows is refused, not half-read.
func TestRecordsCarryFormatVersion(t *testing.T) {
	dir := t.TempDir()
	if err := WriteRequest(dir, Request{ID: "new"}); err != nil {
		t.Fatal(err)
	}
	if r, err := ReadRequest(dir); err != nil || r.Version != proc.FormatVersion {
		t.Errorf("request.json: version %d, %v; want %d", r.Version, err, proc.FormatVersion)
	}
	if err := WriteExit(dir, &driver.ExitStatus{Code: 4}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, ExitFile))
	if want := fmt.Sprintf(`{"Version":%d,"Code":4,`, proc.FormatVersion); len(data) < len(want) || string(data[:len(want)]) != want {
		t.Errorf("exit.json: %s; want it to start %s", data, want)
	}
	if st := ReadExit(dir); st == nil || st.Code != 4 {
		t.Errorf("ReadExit: %+v", st)
	}

	future := fmt.Sprintf(`{"Version":%d,"ID":"new"}`, proc.FormatVersion+1)
	if err := os.WriteFile(filepath.Join(dir, "request.json"), []byte(future), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRequest(dir); !errdefs.IsFailedPrecondition(err) {
		t.Errorf("a request.json of a newer format: %v; want FailedPrecondition", err)
	}
	future = fmt.Sprintf(`{"Version":%d,"Code":5}`, proc.FormatVersion+1)
	if err := os.WriteFile(filepath.Join(dir, ExitFile), []byte(future), 0o600); err != nil {
		t.Fatal(err)
	}
	if st := ReadExit(dir); st != nil {
		t.Errorf("an exit.json of a newer format was read: %+v", st)
	}
}
