//go:build linux

package sandboxrec

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/monitor/proc"
)

// testRecord is a driver's record: Record embedded, one field of its own.
type testRecord struct {
	Record
	NetNSPath string
}

func testHolders(t *testing.T) *Holders[testRecord, *testRecord] {
	return &Holders[testRecord, *testRecord]{
		Dir: t.TempDir(), Gone: func(string) bool { return false }, GoneReason: "holder gone",
	}
}

// startSleep starts a holder process (killed at the end of the test).
func startSleep(t *testing.T) proc.PidRecord {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	start, err := proc.ProcessStartTime(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return proc.PidRecord{Pid: cmd.Process.Pid, StartTime: start}
}

func newRecord(id string) *testRecord {
	return &testRecord{Record: Record{Spec: driver.SandboxSpec{ID: id}, CreatedAt: time.Now().UTC()}}
}

// TestHoldersLifecycle: create, start, a holder that dies without a stop
// (Wait reports GoneReason and records it), and a stop.
func TestHoldersLifecycle(t *testing.T) {
	h := testHolders(t)
	holder := startSleep(t)
	r := newRecord("p1")
	h.Finish = func(r *testRecord, sb *driver.Sandbox) { sb.NetNSPath = r.NetNSPath }
	sb, err := h.Create(r, func(r *testRecord) error { r.Holder = holder; r.NetNSPath = "/x"; return nil }, func(*testRecord) { t.Error("undo ran") })
	if err != nil || sb.Status != driver.StatusCreated || sb.NetNSPath != "/x" || sb.Pid != uint32(holder.Pid) {
		t.Fatalf("create: %+v, %v", sb, err)
	}
	if _, err := h.Create(newRecord("p1"), nil, nil); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	if _, err := h.Join("c1", "p1"); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("join a created sandbox: %v, want FailedPrecondition", err)
	}
	if sb, err = h.Start("p1", nil); err != nil || sb.Status != driver.StatusRunning || sb.NetNSPath != "/x" {
		t.Fatalf("start: %+v, %v", sb, err)
	}
	if _, err := h.Start("p1", nil); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("start twice: %v, want FailedPrecondition", err)
	}
	if _, err := h.Join("c1", "p1"); err != nil {
		t.Fatal(err)
	}
	if err := h.MarkMember("c1", "p1"); err != nil || len(h.Members("p1")) != 1 {
		t.Fatalf("members %v, %v", h.Members("p1"), err)
	}
	proc.KillRecorded(holder)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	exit, err := h.Wait(ctx, "p1")
	if err != nil || exit.Reason != "holder gone" || exit.ExitedAt.IsZero() {
		t.Fatalf("wait: %+v, %v; want the recorded GoneReason", exit, err)
	}
	if r, _ := h.Read("status", "p1"); r.Exit == nil || r.Exit.Reason != "holder gone" {
		t.Fatalf("the holder's end is not recorded: %+v", r)
	}
	if sbs, err := h.List(); err != nil || len(sbs) != 1 || sbs[0].Status != driver.StatusStopped || sbs[0].Containers[0] != "c1" {
		t.Fatalf("list: %+v, %v", sbs, err)
	}

	r2 := newRecord("p2")
	if _, err := h.Create(r2, func(r *testRecord) error { r.Holder = startSleep(t); return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.Stop(ctx, &driver.StopSandboxRequest{ID: "p2"}, time.Second); err != nil {
		t.Fatal(err)
	}
	if r, _ := h.Read("status", "p2"); r.Exit == nil || r.Exit.Reason != "sandbox stopped" || !r.Holder.Gone() {
		t.Fatalf("stop: %+v", r)
	}
}

// TestHoldersCreateUndo: a failed start runs undo, and the sandbox's id is
// free again.
func TestHoldersCreateUndo(t *testing.T) {
	h := testHolders(t)
	boom := errors.New("boom")
	undone := false
	_, err := h.Create(newRecord("p1"), func(*testRecord) error { return boom }, func(r *testRecord) {
		undone = true
		if err := h.Remove(r.Spec.ID); err != nil {
			t.Error(err)
		}
	})
	if !errors.Is(err, boom) || !undone {
		t.Fatalf("create: %v (undo ran: %v), want boom and undo", err, undone)
	}
	if _, err := os.Stat(filepath.Join(h.Dir, "p1")); !os.IsNotExist(err) {
		t.Fatalf("the sandbox's dir is left: %v", err)
	}
	if _, err := h.Create(newRecord("p1"), func(*testRecord) error { return nil }, nil); err != nil {
		t.Fatalf("create after undo: %v", err)
	}
}

// TestRecordKeepsItsFormat: a record written before Record was embedded
// (its fields at the top level of sandbox.json) reads the same.
func TestRecordKeepsItsFormat(t *testing.T) {
	h := testHolders(t)
	old := `{"Spec":{"ID":"p1","Hostname":"h"},"Holder":{"Pid":7,"StartTime":9},"NetNSPath":"/proc/7/ns/net",` +
		`"Cgroup":"/rtd/pod-p1","Started":true,"CreatedAt":"2026-12-01T00:00:00Z"}`
	if err := os.MkdirAll(filepath.Join(h.Dir, "p1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.Dir, "p1", RecordName), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := h.Read("status", "p1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Spec.Hostname != "h" || r.Holder.Pid != 7 || r.NetNSPath != "/proc/7/ns/net" || r.Cgroup != "/rtd/pod-p1" || !r.Started {
		t.Fatalf("old record read as %+v", r)
	}
}
