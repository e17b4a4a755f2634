package drivertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rtd-project/rtd/conformance"
)

// NotReady runs the conformance suite against bin, the binary of a
// driver's placeholder for an OS it cannot run on, and fails t unless the
// report says not ready with reason ("requires freebsd"), every INFO case
// passes and every other case skips: no case may pass vacuously against a
// driver that cannot run.
func NotReady(t *testing.T, bin, reason string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := conformance.RunSuite(ctx, conformance.Config{Driver: bin})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ready || !strings.Contains(rep.Health, reason) {
		t.Errorf("report: ready=%v health=%q, want not ready: %s", rep.Ready, rep.Health, reason)
	}
	if len(rep.Results) == 0 {
		t.Fatal("no case ran")
	}
	for _, r := range rep.Results {
		info := strings.HasPrefix(r.ID, "INFO-")
		switch {
		case info && r.Result != conformance.Pass:
			t.Errorf("%s %s: %s (%s)", r.ID, r.Level, r.Result, r.Message)
		case !info && r.Result != conformance.Skip:
			t.Errorf("%s %s: %s against a driver that is not ready (%s)", r.ID, r.Level, r.Result, r.Message)
		}
	}
	t.Log(rep.Summary())
}
