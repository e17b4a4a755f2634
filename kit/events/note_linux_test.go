//go:build linux

package events

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rtd-project/rtd/driver"
	mproc "github.com/rtd-project/rtd/kit/monitor/proc"
)

// TestNoteCarriesThePid: a noted event carries the pid of the container's
// pid file, one without a pid file is journaled all the same, and the
// exec hook journals the exec with the pid it is given.
func TestNoteCarriesThePid(t *testing.T) {
	j := New(t.TempDir(), nil)
	dir := j.procDir("c1", "")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := mproc.WritePidFile(filepath.Join(dir, mproc.PidFile), os.Getpid()); err != nil {
		t.Fatal(err)
	}
	j.Note(driver.EventStart, "c1")
	j.Note(driver.EventPause, "nopid")
	if err := os.MkdirAll(j.procDir("c1", "e1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := j.ExecStarted(&driver.ExecRequest{ID: "c1", ExecID: "e1"})(7); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var got []*driver.Event
	_ = j.Stream(ctx, &driver.EventsRequest{Since: time.Unix(1, 0)}, func(e *driver.Event) error {
		got = append(got, e)
		return nil
	})
	if len(got) != 3 || got[0].Type != driver.EventStart || got[0].Pid != uint32(os.Getpid()) || got[1].ID != "nopid" || got[1].Pid != 0 ||
		got[2].Type != driver.EventExec || got[2].ExecID != "e1" || got[2].Pid != 7 {
		t.Fatalf("events %+v, want start c1 with pid %d, pause nopid, exec c1/e1 with pid 7", got, os.Getpid())
	}
}
