package core

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

func newTestCore(t *testing.T) *Core {
	t.Helper()
	return New(Options{Root: t.TempDir(), SearchPath: []string{}})
}

func TestValidateID(t *testing.T) {
	for _, id := range []string{"a", "x", "0abc", "my-container_1.2", strings.Repeat("a", 128)} {
		if err := ValidateID(id); err != nil {
			t.Errorf("ValidateID(%q) = %v, want nil", id, err)
		}
	}
	for _, id := range []string{"", "../x", "..", ".x", "-x", "_x", "a/b", "a b", "x\n", "ä", strings.Repeat("a", 129)} {
		err := ValidateID(id)
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("ValidateID(%q) = %v, want InvalidArgument", id, err)
			continue
		}
		if !strings.Contains(err.Error(), `"`+id+`"`) && id != "x\n" {
			t.Errorf("ValidateID(%q) error %q does not name the id", id, err)
		}
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewID()
		if len(id) != 12 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("NewID() = %q, want 12 hex characters", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

// Atomicity itself is kit/atomicfile's (TestReadersNeverSeeATornWrite).
func TestCreateRecordRoundTripLeavesNoTemporaryFile(t *testing.T) {
	c := newTestCore(t)
	rec := &Record{ID: "abc", Driver: "linux", Image: "hello", Created: time.Now().UTC(), Labels: map[string]string{"a": "b"}}
	if err := c.CreateRecord(rec); err != nil {
		t.Fatal(err)
	}
	dir := c.ContainerDir("abc")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Name() != creatingFile || entries[1].Name() != recordFile {
		t.Fatalf("record dir holds %v, want %s and %s (no temporary files)", entries, creatingFile, recordFile)
	}
	if !c.Creating(rec) {
		t.Error("a record being created is not reported as creating")
	}
	c.FinishCreating("abc")
	if entries, _ = os.ReadDir(dir); len(entries) != 1 || entries[0].Name() != recordFile {
		t.Fatalf("record dir holds %v after FinishCreating, want only %s", entries, recordFile)
	}
	if fi, err := os.Stat(filepath.Join(dir, recordFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("record.json mode: %v %v, want 0600", fi.Mode(), err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("record dir mode: %v %v, want 0700", fi.Mode(), err)
	}
	data, err := os.ReadFile(filepath.Join(dir, recordFile))
	if err != nil {
		t.Fatal(err)
	}
	var back Record
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("record is not JSON: %v", err)
	}
	if back.ID != "abc" || back.Labels["a"] != "b" || !back.Created.Equal(rec.Created) {
		t.Fatalf("record read back = %+v", back)
	}
	rec.Command = []string{"sh"}
	if err := c.WriteRecord(rec); err != nil {
		t.Fatal(err)
	}
	got, err := c.LoadRecord("abc")
	if err != nil || len(got.Command) != 1 {
		t.Fatalf("LoadRecord after WriteRecord = %+v, %v", got, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("WriteRecord left files behind: %v", entries)
	}
}

func TestCreateRecordConcurrentSameID(t *testing.T) {
	c := newTestCore(t)
	const n = 32
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A Core per goroutine, like separate CLI processes.
			ci := New(Options{Root: c.Root(), SearchPath: []string{}})
			errs[i] = ci.CreateRecord(&Record{ID: "x", Driver: "linux", Created: time.Now()})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errdefs.IsAlreadyExists(err):
			t.Errorf("CreateRecord = %v, want AlreadyExists", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent creations of the same id won, want exactly 1", won)
	}
}

func TestCreateRecordInvalidID(t *testing.T) {
	c := newTestCore(t)
	err := c.CreateRecord(&Record{ID: "../x"})
	if !errdefs.IsInvalidArgument(err) {
		t.Fatalf("CreateRecord(../x) = %v, want InvalidArgument", err)
	}
	if _, err := os.Stat(filepath.Join(c.Root(), "x")); err == nil {
		t.Fatal("CreateRecord(../x) created a directory outside containers/")
	}
	if entries, _ := os.ReadDir(c.containersDir()); len(entries) != 0 {
		t.Fatalf("containers/ holds %v after a refused id", entries)
	}
}

func TestLookup(t *testing.T) {
	c := newTestCore(t)
	base := time.Now()
	for i, r := range []*Record{
		{ID: "abc123", Created: base},
		{ID: "abd456", Created: base.Add(time.Second)},
		{ID: "web", Name: "web", Created: base.Add(2 * time.Second)},
		{ID: "web1", Name: "web1", Created: base.Add(3 * time.Second)},
	} {
		if err := c.CreateRecord(r); err != nil {
			t.Fatal(i, err)
		}
	}
	for ref, want := range map[string]string{"abc123": "abc123", "abc": "abc123", "abd": "abd456", "web": "web", "web1": "web1"} {
		rec, err := c.Lookup(ref)
		if err != nil || rec.ID != want {
			t.Errorf("Lookup(%q) = %v, %v; want %s", ref, rec, err, want)
		}
	}
	if _, err := c.Lookup("ab"); !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("Lookup(ab) = %v, want an ambiguous InvalidArgument", err)
	}
	// Names match exactly, as docker's do: a prefix of a name (here also
	// the container's id) finds nothing.
	for _, ref := range []string{"zzz", "we", "web1x"} {
		if rec, err := c.Lookup(ref); !errdefs.IsNotFound(err) {
			t.Errorf("Lookup(%q) = %v, %v; want NotFound", ref, rec, err)
		}
	}
	if err := c.RemoveRecord("web"); err != nil {
		t.Fatal(err)
	}
	if rec, err := c.Lookup("web"); !errdefs.IsNotFound(err) {
		t.Errorf("Lookup(web) with only web1 = %v, %v; want NotFound", rec, err)
	}
	if _, err := c.Lookup("../x"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("Lookup(../x) = %v, want InvalidArgument", err)
	}
	recs, err := c.Records()
	if err != nil || len(recs) != 3 || recs[0].ID != "abc123" || recs[2].ID != "web1" {
		t.Fatalf("Records() = %v, %v; want 3, oldest first", recs, err)
	}
	if err := c.RemoveRecord("abc123"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveRecord("abc123"); err != nil {
		t.Fatalf("removing a removed record: %v", err)
	}
	if _, err := c.LoadRecord("abc123"); !errdefs.IsNotFound(err) {
		t.Fatalf("LoadRecord after RemoveRecord = %v, want NotFound", err)
	}
}

func TestRecordsSkipsCorrupt(t *testing.T) {
	c := newTestCore(t)
	if err := c.CreateRecord(&Record{ID: "good"}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(c.ContainerDir("bad"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.ContainerDir("bad"), recordFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	recs, err := c.Records()
	if err != nil || len(recs) != 1 || recs[0].ID != "good" {
		t.Fatalf("Records() = %v, %v; want only good", recs, err)
	}
}

// What a creator killed half-way leaves is reclaimed by the next call: a
// hidden temporary, a directory without a record, and a record whose
// creator died before the driver created the container (issue 12 item 2).
func TestReclaimAbandoned(t *testing.T) {
	c := newTestCore(t)
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Join(c.containersDir(), tmpRecordPrefix+"x-1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(c.ContainerDir("norecord"), 0o700); err != nil {
		t.Fatal(err)
	}
	dead := &Record{ID: "dead", Driver: "nosuch", Created: time.Now().UTC()}
	live := &Record{ID: "live", Driver: "nosuch", Created: time.Now().UTC()}
	for _, r := range []*Record{dead, live} {
		if err := c.CreateRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	// The creator of "dead" dies: its marker's lock is released, the
	// marker stays.
	c.mu.Lock()
	c.creating["dead"].Close()
	delete(c.creating, "dead")
	c.mu.Unlock()
	if c.Creating(dead) {
		t.Error("a record whose creator died is reported as creating")
	}
	got := c.ReclaimAbandoned(ctx)
	if len(got) != 1 || got[0] != "dead" {
		t.Errorf("reclaimed %v, want [dead]", got)
	}
	entries, _ := os.ReadDir(c.containersDir())
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != "live" {
		t.Errorf("containers dir holds %v, want only [live] (being created by a live creator)", names)
	}
	c.FinishCreating("live")
}

// A record written before formats had versions (what rtd wrote before
// RecordVersion 1: the same fields, no "version") is read as it is, so an
// upgraded rtd finds the containers the previous one started; a rewrite
// stamps the current version; a record from a newer rtd is refused, typed.
func TestLoadsRecordOfPreviousFormat(t *testing.T) {
	c := newTestCore(t)
	old := `{"id":"old1","name":"web","driver":"linux","driverPath":"/usr/lib/rtd/rtd-driver-linux",` +
		`"bundle":"/b","image":"busybox","command":["sh"],"created":"2026-01-02T03:04:05Z","detached":true,"autoRemove":false}`
	if err := os.MkdirAll(c.ContainerDir("old1"), 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.ContainerDir("old1"), recordFile)
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	rec, err := c.LoadRecord("old1")
	if err != nil {
		t.Fatalf("LoadRecord of a version-0 record: %v", err)
	}
	if rec.Version != 0 || rec.Name != "web" || rec.Driver != "linux" || rec.Command[0] != "sh" || !rec.Detached {
		t.Fatalf("version-0 record read as %+v", rec)
	}
	if err := c.WriteRecord(rec); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), `"version":1`) {
		t.Fatalf("rewritten record carries no version: %s", data)
	}
	newer := strings.Replace(old, `{"id"`, `{"version":99,"id"`, 1)
	if err := os.WriteFile(path, []byte(newer), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LoadRecord("old1"); !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), "99") {
		t.Fatalf("LoadRecord of a newer format = %v, want FailedPrecondition naming version 99", err)
	}
}
