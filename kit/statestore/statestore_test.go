package statestore

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
)

func TestStore(t *testing.T) {
	s := Store{Root: t.TempDir()}
	rec := &testRecord{ID: "c1", Bundle: "/b", CreatedAt: time.Now().UTC().Truncate(time.Second)}
	if err := s.Create("c1", rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Create("c1", &testRecord{ID: "c1"}); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	var got testRecord
	if err := s.Load("state", "c1", &got); err != nil || !reflect.DeepEqual(&got, rec) {
		t.Fatalf("load: %+v %v, want %+v", got, err, rec)
	}
	if err := s.Load("state", "nope", &got); !errdefs.IsNotFound(err) {
		t.Fatalf("load unknown: %v, want NotFound", err)
	}
	for _, bad := range []string{"", "../x", "a/b", `a\b`, ".hidden", string(make([]byte, 129))} {
		if err := s.Load("state", bad, &got); !errdefs.IsInvalidArgument(err) {
			t.Errorf("load %q: %v, want InvalidArgument", bad, err)
		}
	}
	if _, ok := s.Exit("c1"); ok {
		t.Fatal("exit before any was saved")
	}
	first := &driver.ExitStatus{Code: 3, ExitedAt: time.Now().UTC().Truncate(time.Second)}
	if err := s.SaveExit("c1", first); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveExit("c1", &driver.ExitStatus{Code: 9}); err != nil {
		t.Fatal(err)
	}
	if e, ok := s.Exit("c1"); !ok || !reflect.DeepEqual(e, first) {
		t.Fatalf("exit %+v, want the first one %+v", e, first)
	}
	if err := s.Create("a0", &testRecord{ID: "a0"}); err != nil {
		t.Fatal(err)
	}
	// Stray files and temp files are not containers.
	_ = os.WriteFile(filepath.Join(s.Root, "containers", "file"), nil, 0o600)
	_ = os.Mkdir(filepath.Join(s.Root, "containers", ".tmp"), 0o700)
	if ids, err := s.IDs(); err != nil || !reflect.DeepEqual(ids, []string{"a0", "c1"}) {
		t.Fatalf("ids %v %v", ids, err)
	}
	if err := s.Remove("c1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Load("delete", "c1", &got); !errdefs.IsNotFound(err) {
		t.Fatalf("after remove: %v", err)
	}
	entries, _ := os.ReadDir(s.Dir("a0"))
	for _, e := range entries {
		if e.Name() != "record.json" {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

func TestStoreEmpty(t *testing.T) {
	ids, err := Store{Root: filepath.Join(t.TempDir(), "missing")}.IDs()
	if err != nil || len(ids) != 0 {
		t.Fatalf("ids of a missing root: %v %v", ids, err)
	}
}

type testRecord struct {
	ID        string
	Bundle    string
	CreatedAt time.Time
}

// Of's Get returns the record typed; an unknown id is NotFound naming op.
func TestOfGetsTypedRecords(t *testing.T) {
	s := Of[testRecord]{Store{Root: t.TempDir()}}
	rec := &testRecord{ID: "c1", Bundle: "/b"}
	if err := s.Create(rec.ID, rec); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("state", "c1")
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, rec)
	}
	if _, err := s.Get("state", "nope"); !errdefs.IsNotFound(err) {
		t.Fatalf("Get of an unknown id = %v, want NotFound", err)
	}
}
