package conformance

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A case with many containers gets lives × 5 × the measured life, between
// the floor (CaseTimeout) and the 15-minute cap; any other case gets the
// floor.
func TestBudgetFollowsMeasuredLife(t *testing.T) {
	churn := Case{ID: "ROBUST-003", Lives: func(cfg Config) int { return cfg.ChurnCycles }}
	for _, tc := range []struct {
		name   string
		c      Case
		cycles int
		life   time.Duration
		want   time.Duration
		says   string
	}{
		{"fast driver: the floor", churn, 200, 50 * time.Millisecond, 2 * time.Minute, "the floor"},
		{"slow driver: scaled", churn, 10, 4 * time.Second, 200 * time.Second, "10 lives × 5 × 4s"},
		{"loaded machine: the cap", churn, 10, 30 * time.Second, 15 * time.Minute, "the cap"},
		{"one container: the case timeout", Case{ID: "LIFECYCLE-002"}, 10, 30 * time.Second, 2 * time.Minute, "the case timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Session{cfg: Config{CaseTimeout: 2 * time.Minute, ChurnCycles: tc.cycles}, life: tc.life, lifeHow: "test"}
			got, why := s.budget(context.Background(), tc.c)
			if got != tc.want || !strings.Contains(why, tc.says) {
				t.Errorf("budget %s (%s), want %s (%q)", got, why, tc.want, tc.says)
			}
		})
	}
}
