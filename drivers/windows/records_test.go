package windows

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
	s := store{root: t.TempDir()}
	rec := &Record{
		ID: "c1", Bundle: `C:\b`, Annotations: map[string]string{"a": "b"}, CreatedAt: time.Now().UTC().Truncate(time.Second),
		Stdio: driver.Stdio{Stdout: `\\.\pipe\out`}, Process: &ProcessConfig{CommandLine: "cmd"},
	}
	if err := s.create(rec); err != nil {
		t.Fatal(err)
	}
	if err := s.create(&Record{ID: "c1"}); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	got, err := s.load("state", "c1")
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("load: %+v %v, want %+v", got, err, rec)
	}
	if _, err := s.load("state", "nope"); !errdefs.IsNotFound(err) {
		t.Fatalf("load unknown: %v, want NotFound", err)
	}
	for _, bad := range []string{"", "../x", "a/b", `a\b`, ".hidden", string(make([]byte, 129))} {
		if _, err := s.load("state", bad); !errdefs.IsInvalidArgument(err) {
			t.Errorf("load %q: %v, want InvalidArgument", bad, err)
		}
	}
	if _, ok := s.exit("c1"); ok {
		t.Fatal("exit before any was saved")
	}
	first := &driver.ExitStatus{Code: 3, ExitedAt: time.Now().UTC().Truncate(time.Second)}
	if err := s.saveExit("c1", first); err != nil {
		t.Fatal(err)
	}
	if err := s.saveExit("c1", &driver.ExitStatus{Code: 9}); err != nil {
		t.Fatal(err)
	}
	if e, ok := s.exit("c1"); !ok || !reflect.DeepEqual(e, first) {
		t.Fatalf("exit %+v, want the first one %+v", e, first)
	}
	if err := s.create(&Record{ID: "a0"}); err != nil {
		t.Fatal(err)
	}
	// Stray files and temp files are not containers.
	_ = os.WriteFile(filepath.Join(s.root, "containers", "file"), nil, 0o600)
	_ = os.Mkdir(filepath.Join(s.root, "containers", ".tmp"), 0o700)
	if ids, err := s.ids(); err != nil || !reflect.DeepEqual(ids, []string{"a0", "c1"}) {
		t.Fatalf("ids %v %v", ids, err)
	}
	if err := s.remove("c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.load("delete", "c1"); !errdefs.IsNotFound(err) {
		t.Fatalf("after remove: %v", err)
	}
	entries, _ := os.ReadDir(s.dir("a0"))
	for _, e := range entries {
		if e.Name() != "record.json" {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

func TestStoreEmpty(t *testing.T) {
	ids, err := store{root: filepath.Join(t.TempDir(), "missing")}.ids()
	if err != nil || len(ids) != 0 {
		t.Fatalf("ids of a missing root: %v %v", ids, err)
	}
}
