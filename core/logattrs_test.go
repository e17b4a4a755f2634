package core

import (
	"testing"

	"github.com/containerd/errdefs"
)

// --log-opt picks labels and environment variables by name and by regexp,
// as docker's json-file driver; LogDetails prints them as docker logs
// --details does.
func TestLogOptsAttrs(t *testing.T) {
	lo, err := ParseLogOpts([]string{"labels=app,missing", "labels-regex=^ti", "env=ZONE,NOPE", "env-regex=^REG"})
	if err != nil {
		t.Fatal(err)
	}
	got := LogDetails(lo.attrs(map[string]string{"app": "web", "tier": "front end", "other": "x"},
		[]string{"REGION=eu", "ZONE=b=c", "PATH=/bin", "NOVALUE"}))
	if want := "REGION=eu,ZONE=b%3Dc,app=web,tier=front+end"; got != want {
		t.Errorf("details = %q, want %q", got, want)
	}
	if a := (LogOptions{}).attrs(map[string]string{"app": "web"}, []string{"A=b"}); a != nil {
		t.Errorf("no log opts: attrs %v, want none", a)
	}
	for _, bad := range []string{"max-size=1m", "tag=x", "nope=1", "labels-regex=(", "labels", "=x"} {
		if _, err := ParseLogOpts([]string{bad}); !errdefs.IsInvalidArgument(err) {
			t.Errorf("ParseLogOpts(%q) = %v, want InvalidArgument", bad, err)
		}
	}
}
