package conformance

import (
	"context"
	"testing"
)

// Run runs the suite from a driver author's `go test`: one subtest per case,
// skipped cases call t.Skip with the reason, failed ones t.Error.
func Run(t *testing.T, cfg Config) *Report {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var results []Result
	cfg.Progress = nil
	rep, err := RunSuite(ctx, cfg)
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	results = rep.Results
	for _, res := range results {
		res := res
		t.Run(res.ID, func(t *testing.T) {
			if res.Budget != "" {
				t.Logf("budget %s", res.Budget)
			}
			switch res.Result {
			case Skip:
				t.Skip(res.Message)
			case Fail:
				t.Errorf("%s %s: %s: %s", res.ID, res.Level, res.Clause, res.Message)
			case Warn:
				t.Logf("WARN %s SHOULD: %s: %s", res.ID, res.Clause, res.Message)
			}
		})
	}
	t.Log(rep.Summary())
	return rep
}
