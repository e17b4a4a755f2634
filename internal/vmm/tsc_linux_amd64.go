package vmm

import "time"

// rdtsc reads the time stamp counter.
func rdtsc() uint64

// measureTSCKHz measures the host's TSC rate against the monotonic clock
// (under TCG the guest's TSC is the host's), 0 if it looks wrong.
func measureTSCKHz() int {
	best := 0
	for i := 0; i < 3; i++ {
		t0, c0 := time.Now(), rdtsc()
		time.Sleep(20 * time.Millisecond)
		c1, t1 := rdtsc(), time.Now()
		ns := t1.Sub(t0).Nanoseconds()
		if c1 <= c0 || ns <= 0 {
			continue
		}
		khz := int((c1 - c0) * 1_000_000 / uint64(ns))
		// The clock interval encloses the counter interval, so a preemption
		// between the reads can only lower a sample: keep the highest.
		best = max(best, khz)
	}
	if best < 100_000 || best > 10_000_000 {
		return 0
	}
	return best
}
