package sandboxrec

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/containerd/errdefs"
)

type rec struct{ Name string }

// TestRecordRoundTrip: a written record reads back, a missing one is
// NotFound, a bad id InvalidArgument, an unreadable one an error.
func TestRecordRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read[rec](dir, "status", "p1"); !errdefs.IsNotFound(err) {
		t.Fatalf("missing record: %v, want NotFound", err)
	}
	if _, err := Read[rec](dir, "status", "../x"); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("bad id: %v, want InvalidArgument", err)
	}
	unlock, err := Lock(dir, "p1")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := os.MkdirAll(filepath.Join(dir, "p1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, "p1", &rec{Name: "pod"}); err != nil {
		t.Fatal(err)
	}
	r, err := Read[rec](dir, "status", "p1")
	if err != nil || r.Name != "pod" {
		t.Fatalf("read back %+v, %v", r, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p1", RecordName), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read[rec](dir, "status", "p1"); err == nil || errdefs.IsNotFound(err) {
		t.Fatalf("torn record: %v, want an error other than NotFound", err)
	}
}

// TestMembersDropsGone: members are sorted and the marks of gone
// containers are removed.
func TestMembersDropsGone(t *testing.T) {
	dir := t.TempDir()
	mdir := filepath.Join(dir, "p1", "members")
	if err := os.MkdirAll(mdir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"c", "a", "gone"} {
		if err := os.WriteFile(filepath.Join(mdir, c), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got := Members(dir, "p1", func(c string) bool { return c == "gone" })
	if !reflect.DeepEqual(got, []string{"a", "c"}) {
		t.Errorf("members %v, want [a c]", got)
	}
	if _, err := os.Stat(filepath.Join(mdir, "gone")); !os.IsNotExist(err) {
		t.Errorf("the gone container's mark is still there: %v", err)
	}
}
