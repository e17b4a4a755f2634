package conformance

import (
	"context"
	"fmt"
	"time"
)

// Time budgets follow the driver's own cost. A case that runs many
// containers (Case.Lives) gets
//
//	budget = lives × LifeFactor × the measured life of one container
//
// where a life is Create + Start + exit + Delete of the probe, as the
// suite's first lifecycle case (LIFECYCLE-001) measured it (or, when that
// case was not run, one calibration life run before the case). The budget
// is never below Config.CaseTimeout (the floor, default 2 minutes) and
// never above MaxCaseTimeout (15 minutes): a slow driver on a busy machine
// (a TCG microVM boots 8× slower when the cores are shared) is not failed
// by the clock, and a hung one still ends.
const (
	LifeFactor     = 5
	MaxCaseTimeout = 15 * time.Minute
)

// budget returns the timeout of case c and how it was computed.
func (s *Session) budget(ctx context.Context, c Case) (time.Duration, string) {
	floor := s.cfg.CaseTimeout
	if c.Lives == nil {
		return floor, fmt.Sprintf("the case timeout %s", floor)
	}
	lives := c.Lives(s.cfg)
	life, how := s.lifeCost(ctx)
	if life <= 0 {
		return floor, fmt.Sprintf("the case timeout %s (no container life measured: %s)", floor, how)
	}
	b := time.Duration(lives*LifeFactor) * life
	why := fmt.Sprintf("%d lives × %d × %s (one life, %s)", lives, LifeFactor, life.Round(time.Millisecond), how)
	switch {
	case b < floor:
		return floor, fmt.Sprintf("the floor %s (%s = %s)", floor, why, b.Round(time.Millisecond))
	case b > MaxCaseTimeout:
		return MaxCaseTimeout, fmt.Sprintf("the cap %s (%s = %s)", MaxCaseTimeout, why, b.Round(time.Millisecond))
	}
	return b, why
}

// noteLife records the cost of one container's life (create, start, exit,
// delete) the first time a case measures it.
func (s *Session) noteLife(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.life == 0 {
		s.life, s.lifeHow = d, "measured by LIFECYCLE-001"
	}
}

// lifeCost returns the measured life of one container, running one
// (the probe's `exit 0`) if no case has measured it yet.
func (s *Session) lifeCost(ctx context.Context) (time.Duration, string) {
	s.mu.Lock()
	life, how := s.life, s.lifeHow
	s.mu.Unlock()
	if life > 0 {
		return life, how
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.CaseTimeout)
	defer cancel()
	start := time.Now()
	c, err := s.run(cctx, "life", opts{probe: []string{"exit", "0"}})
	if err == nil {
		_, err = c.wait(cctx)
	}
	if err == nil {
		err = c.delete(cctx)
	}
	if err != nil {
		return 0, fmt.Sprintf("calibration failed: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.life == 0 {
		s.life, s.lifeHow = time.Since(start), "measured by a calibration run"
	}
	return s.life, s.lifeHow
}
