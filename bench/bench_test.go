package bench

import (
	"fmt"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5, 1, 3}, 3},
		{[]time.Duration{4, 1, 3, 2}, 2},
	} {
		if m := Median(c.in); m != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, m, c.want)
		}
	}
}

func TestABKeepsSidesApart(t *testing.T) {
	var order []string
	slow := func() (time.Duration, error) { order = append(order, "a"); return 20 * time.Millisecond, nil }
	fast := func() (time.Duration, error) { order = append(order, "b"); return 10 * time.Millisecond, nil }
	p, err := AB("x", "a", "b", 4, slow, fast)
	if err != nil {
		t.Fatal(err)
	}
	if p.Ratio != 2 || len(p.SamplesA) != 4 || len(p.SamplesB) != 4 {
		t.Fatalf("ratio %v, %d/%d samples: A and B samples mixed up", p.Ratio, len(p.SamplesA), len(p.SamplesB))
	}
	// Warm-up of each, then AB BA AB BA.
	if got, want := fmt.Sprint(order), "[a b a b b a a b b a]"; got != want {
		t.Errorf("order %s, want %s", got, want)
	}
	p.GoalRatio(1.2)
	if *p.Met {
		t.Error("2x met a 1.2x goal")
	}
	p.GoalFaster(3)
	if *p.Met {
		t.Error("2x slower met a 3x faster goal")
	}
	p.Ratio = 0.3
	p.GoalFaster(3)
	if !*p.Met {
		t.Error("0.3x did not meet a 3x faster goal")
	}
}
