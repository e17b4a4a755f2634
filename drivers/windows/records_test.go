package windows

import (
	"reflect"
	"testing"
	"time"

	"github.com/rtd-project/rtd/driver"
)

// The store itself is tested in kit/statestore; this checks that the
// driver's own Record survives it whole.
func TestRecordRoundTrip(t *testing.T) {
	s := newStore(t.TempDir())
	rec := &Record{
		ID: "c1", Bundle: `C:\b`, Annotations: map[string]string{"a": "b"}, CreatedAt: time.Now().UTC().Truncate(time.Second),
		Stdio: driver.Stdio{Stdout: `\\.\pipe\out`}, Process: &ProcessConfig{CommandLine: "cmd"}, HyperV: true,
		Started: true, Pid: 42, ScratchLayer: `C:\scratch`,
	}
	if err := s.Create(rec.ID, rec); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("state", "c1")
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("load: %+v %v, want %+v", got, err, rec)
	}
}
