package driver

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	driverv1 "github.com/rtd-project/rtd/api/driver/v1"
)

// These in-process checks complement the wire tests in roundtrip_test.go:
// they pin the conversions of values the fake driver does not produce.

func TestConvertZeroAndNil(t *testing.T) {
	if ts := timeToProto(time.Time{}); ts != nil {
		t.Errorf("zero time -> %v, want nil", ts)
	}
	if got := timeFromProto(nil); !got.IsZero() {
		t.Errorf("nil timestamp -> %v, want zero", got)
	}
	if exitToProto(nil) != nil || exitFromProto(nil) != nil {
		t.Error("nil exit status should stay nil")
	}
	if got := stateFromProto(stateToProto(&State{ID: "a"})); !reflect.DeepEqual(got, &State{ID: "a"}) {
		t.Errorf("sparse state -> %+v", got)
	}
	if got := infoFromProto(nil); !reflect.DeepEqual(got, &Info{}) {
		t.Errorf("nil info -> %+v", got)
	}
	r, err := execRequestFromProto(nil)
	if err != nil || r.Process != nil {
		t.Errorf("nil exec request -> %+v, %v", r, err)
	}
}

func TestConvertTimesKeepNanosecondsAndInstant(t *testing.T) {
	loc := time.FixedZone("X", 5*3600)
	in := time.Date(2024, 2, 29, 23, 59, 58, 123456789, loc)
	e := &ExitStatus{Code: 1, ExitedAt: in}
	out := exitFromProto(exitToProto(e))
	if !out.ExitedAt.Equal(in) || out.ExitedAt.Nanosecond() != in.Nanosecond() {
		t.Errorf("exited at %v -> %v", in, out.ExitedAt)
	}
}

func TestConvertBadJSONIsInvalidArgument(t *testing.T) {
	_, err := execRequestFromProto(execRequestProto("{not json"))
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "decode exec process") {
		t.Errorf("bad process json: %v, want InvalidArgument naming the exec process", err)
	}
	_, err = updateRequestFromProto(&driverv1.UpdateRequest{Id: "u", ResourcesJson: []byte(`{"memory": 5}`)})
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "decode update resources") {
		t.Errorf("bad resources json: %v, want InvalidArgument naming the resources", err)
	}
}

func TestConvertUpdateRoundTrip(t *testing.T) {
	limit := int64(1 << 20)
	in := &UpdateRequest{ID: "u", Resources: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}}
	p, err := updateRequestToProto(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := updateRequestFromProto(p)
	if err != nil || !reflect.DeepEqual(out, in) {
		t.Errorf("update %+v -> %+v, %v", in, out, err)
	}
}

func TestFormatLogLine(t *testing.T) {
	cases := map[string]string{
		`{"@level":"error","@message":"crashing","@module":"test","@timestamp":"x","id":"c1","n":3}`: "error: crashing id=c1 n=3",
		"panic: boom":      "panic: boom",
		`{"no":"message"}`: `{"no":"message"}`,
	}
	for in, want := range cases {
		if got := formatLogLine(in); got != want {
			t.Errorf("formatLogLine(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestLogRingKeepsLastLines(t *testing.T) {
	r := newLogRing(3)
	w := &lineWriter{ring: r}
	_, _ = w.Write([]byte("one\ntw"))
	_, _ = w.Write([]byte("o\n\nthree\nfour\nfi"))
	if got, want := r.lines(), []string{"two", "three", "four"}; !reflect.DeepEqual(got, want) {
		t.Errorf("lines = %q, want %q", got, want)
	}
}

func execRequestProto(processJSON string) *driverv1.ExecRequest {
	return &driverv1.ExecRequest{Id: "x", ProcessJson: []byte(processJSON)}
}
