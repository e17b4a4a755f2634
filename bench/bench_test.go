package bench

import (
	"testing"
	"time"
)

func TestMedianAndAB(t *testing.T) {
	if m := Median([]time.Duration{5, 1, 3}); m != 3 {
		t.Fatalf("median %v", m)
	}
	if m := Median([]time.Duration{4, 1, 3, 2}); m != 2 {
		t.Fatalf("median %v", m)
	}
	slow := func() (time.Duration, error) { return 20 * time.Millisecond, nil }
	fast := func() (time.Duration, error) { return 10 * time.Millisecond, nil }
	p, err := AB("x", "a", "b", 4, slow, fast)
	if err != nil {
		t.Fatal(err)
	}
	if p.Ratio != 2 || len(p.SamplesA) != 4 {
		t.Fatalf("ratio %v samples %d: A and B samples mixed up", p.Ratio, len(p.SamplesA))
	}
	p.GoalRatio(1.2)
	if *p.Met {
		t.Fatal("2x met a 1.2x goal")
	}
}
