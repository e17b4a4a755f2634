package freebsd

import (
	"reflect"
	"testing"
	"time"
)

// The store itself is tested in kit/statestore; this checks that the
// driver's own Record survives it whole.
func TestRecordRoundTrip(t *testing.T) {
	s := newStore(t.TempDir())
	rec := &Record{ID: "j1", Bundle: "/b", Annotations: map[string]string{"org.freebsd.vnet": "new"},
		CreatedAt: time.Now().UTC().Truncate(time.Second), Pid: 42}
	if err := s.Create(rec.ID, rec); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("state", "j1")
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("load: %+v %v, want %+v", got, err, rec)
	}
	if s.bundleDir("j1") != s.Dir("j1")+"/bundle" {
		t.Fatalf("bundle dir %s", s.bundleDir("j1"))
	}
}
