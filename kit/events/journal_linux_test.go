//go:build linux

package events

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtd-project/rtd/driver"
)

// proc makes a process dir as a driver does and journals its create/exec.
func proc(t *testing.T, j *Journal, id, execID string) string {
	t.Helper()
	dir := j.procDir(id, execID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	typ := driver.EventCreate
	if execID != "" {
		typ = driver.EventExec
	}
	unlock := j.Lock(id, execID)
	defer unlock()
	if err := j.Record(driver.Event{Type: typ, ID: id, ExecID: execID, Pid: 42}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// exited writes a monitor's exit record.
func exited(t *testing.T, dir string, st driver.ExitStatus) {
	t.Helper()
	data, _ := json.Marshal(st)
	if err := os.WriteFile(filepath.Join(dir, "exit.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// collect replays the whole journal.
func collect(t *testing.T, j *Journal, req *driver.EventsRequest) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var out []string
	var last uint64
	_ = j.Stream(ctx, req, func(e *driver.Event) error {
		if e.Seq != last+1 && last != 0 {
			t.Errorf("seq %d after %d", e.Seq, last)
		}
		last = e.Seq
		s := string(e.Type) + " " + e.ID
		if e.ExecID != "" {
			s += "/" + e.ExecID
		}
		if e.Exit != nil {
			s += fmt.Sprintf(" %d", e.Exit.Code)
		}
		out = append(out, s)
		return nil
	})
	return out
}

func equal(t *testing.T, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events\n got  %q\n want %q", got, want)
	}
}

func TestExitsOnceExecsFirst(t *testing.T) {
	j := New(t.TempDir(), nil)
	all := &driver.EventsRequest{After: 0, Since: time.Unix(1, 0)}
	c := proc(t, j, "c1", "")
	e := proc(t, j, "c1", "e1")
	exited(t, c, driver.ExitStatus{Code: 137, ExitedAt: time.Now(), OOMKilled: true})
	j.Derive() // the exec has no exit record: the init's exit waits
	equal(t, collect(t, j, all), "create c1", "exec c1/e1")
	exited(t, e, driver.ExitStatus{Code: 3, ExitedAt: time.Now()})
	j.Derive()
	j.Derive()
	if err := j.Deleted("c1", &driver.ExitStatus{Code: 137}); err != nil {
		t.Fatal(err)
	}
	equal(t, collect(t, j, all), "create c1", "exec c1/e1", "exit c1/e1 3", "oom c1", "exit c1 137", "delete c1 137")
	// A cursor replays what follows it, once.
	equal(t, collect(t, j, &driver.EventsRequest{After: 3}), "oom c1", "exit c1 137", "delete c1 137")
}

func TestDeletedSynthesizesLostExecExit(t *testing.T) {
	j := New(t.TempDir(), nil)
	proc(t, j, "c2", "")
	proc(t, j, "c2", "e1")
	if err := j.Deleted("c2", &driver.ExitStatus{Code: 9}); err != nil {
		t.Fatal(err)
	}
	equal(t, collect(t, j, &driver.EventsRequest{Since: time.Unix(1, 0)}), "create c2", "exec c2/e1", "exit c2/e1 255", "exit c2 9", "delete c2 9")
}

// TestCrashBetweenAppendSteps leaves the write-ahead record of an exit as a
// driver killed mid-append would, before and after the line was written.
func TestCrashBetweenAppendSteps(t *testing.T) {
	for _, lineWritten := range []bool{false, true} {
		t.Run(fmt.Sprint("line written ", lineWritten), func(t *testing.T) {
			j := New(t.TempDir(), nil)
			c := proc(t, j, "c3", "")
			exited(t, c, driver.ExitStatus{Code: 7, ExitedAt: time.Now()})
			p := pending{Record: record{Seq: 2, Time: time.Now(), Type: driver.EventExit, ID: "c3", Exit: &driver.ExitStatus{Code: 7}}, Marker: filepath.Join(c, markerExit)}
			if err := writeAtomic(filepath.Join(j.dir, pendingName), p); err != nil {
				t.Fatal(err)
			}
			if lineWritten {
				line, _ := json.Marshal(p.Record)
				f, _ := os.OpenFile(filepath.Join(j.dir, logName), os.O_WRONLY|os.O_APPEND, 0)
				f.Write(append(line, '\n'))
				f.Close()
			}
			j.Derive()
			equal(t, collect(t, j, &driver.EventsRequest{Since: time.Unix(1, 0)}), "create c3", "exit c3 7")
		})
	}
}

func TestLiveAndRotation(t *testing.T) {
	j := New(t.TempDir(), nil)
	j.maxSize = 600 // a rotation every few events
	proc(t, j, "old", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan *driver.Event, 100)
	done := make(chan error, 1)
	go func() {
		done <- j.Stream(ctx, nil, func(e *driver.Event) error { got <- e; return nil })
	}()
	time.Sleep(50 * time.Millisecond) // the stream starts after "create old"
	// Batches smaller than a journal file: a stream that keeps up reads
	// across every rotation (TestTwoRotationsBetweenReads covers a lagging one).
	for i := 0; i < 20; i++ {
		if err := j.Record(driver.Event{Type: driver.EventStart, ID: fmt.Sprint("c", i)}); err != nil {
			t.Fatal(err)
		}
		if i%3 != 2 && i != 19 {
			continue
		}
		for k := i - i%3; k <= i; k++ {
			select {
			case e := <-got:
				if want := fmt.Sprint("c", k); e.ID != want || e.Seq != uint64(k+2) {
					t.Fatalf("event %d = %s seq %d, want %s seq %d", k, e.ID, e.Seq, want, k+2)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("event %d missing", k)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(j.dir, oldName)); err != nil {
		t.Errorf("no rotation: %v", err)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("stream ended with %v", err)
	}
}

// TestTwoRotationsBetweenReads: a reader that did not read while the
// journal rotated twice reads the file in between (log.1 by then) before
// the current one, and loses nothing.
func TestTwoRotationsBetweenReads(t *testing.T) {
	j := New(t.TempDir(), nil)
	j.maxSize = 250 // two or three records a file
	proc(t, j, "old", "")
	r, err := j.openReader(&driver.EventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	if recs, err := r.next(); err != nil || len(recs) != 1 {
		t.Fatalf("first read: %d records, %v", len(recs), err)
	}
	rotations, n := 0, 0
	var prev os.FileInfo
	for rotations < 2 {
		n++
		if err := j.Record(driver.Event{Type: driver.EventStart, ID: fmt.Sprint("c", n)}); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(filepath.Join(j.dir, oldName)); err == nil && (prev == nil || !os.SameFile(fi, prev)) {
			rotations, prev = rotations+1, fi
		}
	}
	recs, err := r.next()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("read %d records after two rotations, want %d", len(recs), n)
	}
	for i, rec := range recs {
		if rec.Seq != uint64(i+2) {
			t.Fatalf("record %d has seq %d, want %d", i, rec.Seq, i+2)
		}
	}
}

// TestConcurrentJournals appends and derives from two Journals on one state
// dir at once (as two driver processes do: each has its own flock
// descriptions): sequence numbers stay unique and gapless, and each exit is
// journaled once.
func TestConcurrentJournals(t *testing.T) {
	root := t.TempDir()
	a, b := New(root, nil), New(root, nil)
	for i := 0; i < 10; i++ {
		exited(t, proc(t, a, fmt.Sprint("x", i), ""), driver.ExitStatus{Code: uint32(i), ExitedAt: time.Now()})
	}
	var wg sync.WaitGroup
	for _, j := range []*Journal{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if err := j.Record(driver.Event{Type: driver.EventPause, ID: "p"}); err != nil {
					t.Error(err)
				}
				j.Derive()
			}
		}()
	}
	wg.Wait()
	got := collect(t, b, &driver.EventsRequest{Since: time.Unix(1, 0)})
	exits := map[string]int{}
	for _, s := range got {
		if strings.HasPrefix(s, "exit ") {
			exits[s]++
		}
	}
	if len(got) != 10+100+10 || len(exits) != 10 {
		t.Fatalf("%d events, %d distinct exits, want 120 and 10", len(got), len(exits))
	}
	for s, n := range exits {
		if n != 1 {
			t.Errorf("%s journaled %d times", s, n)
		}
	}
}
