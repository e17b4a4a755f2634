package bench

import (
	"fmt"
	"sort"
	"time"
)

// Sample runs one measured operation and returns its duration.
type Sample func() (time.Duration, error)

// Pair is an A/B comparison: rtd (A) against the bare backend (B). Durations
// are in nanoseconds in results.json.
type Pair struct {
	Name     string
	A, B     string // labels
	MedianA  time.Duration
	MedianB  time.Duration
	Ratio    float64 // MedianA / MedianB
	N        int     // samples of each side, warm-up not counted
	Goal     string
	Met      *bool `json:",omitempty"`
	Note     string
	SamplesA []time.Duration
	SamplesB []time.Duration
}

// Value is a single measured number with its goal (if it has one).
type Value struct {
	Name  string
	Value string
	Goal  string
	Met   *bool `json:",omitempty"`
	Note  string
}

// Results is one run of the benchmarks: what results.json holds.
type Results struct {
	Machine map[string]string
	Pairs   []*Pair
	Values  []Value
	// Skipped lists comparisons not measured because this host lacks what
	// they need (a backend not installed, a driver not ready), with why.
	Skipped []string
	// Failed lists comparisons that broke: the runner or rtd is wrong.
	Failed []string
}

// Median of ds (0 for none).
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// AB takes one warm-up sample of a and of b, then n samples of each,
// alternating in ABBA order (AB, BA, AB, ...) so that drift of the machine
// hits both sides alike, and returns the medians and their ratio.
func AB(name, labelA, labelB string, n int, a, b Sample) (*Pair, error) {
	if _, err := a(); err != nil {
		return nil, fmt.Errorf("%s: warm-up %s: %w", name, labelA, err)
	}
	if _, err := b(); err != nil {
		return nil, fmt.Errorf("%s: warm-up %s: %w", name, labelB, err)
	}
	p := &Pair{Name: name, A: labelA, B: labelB, N: n}
	for i := 0; i < n; i++ {
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		d1, err := first()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		d2, err := second()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if i%2 == 1 {
			d1, d2 = d2, d1
		}
		p.SamplesA = append(p.SamplesA, d1)
		p.SamplesB = append(p.SamplesB, d2)
	}
	p.MedianA, p.MedianB = Median(p.SamplesA), Median(p.SamplesB)
	if p.MedianB > 0 {
		p.Ratio = float64(p.MedianA) / float64(p.MedianB)
	}
	return p, nil
}

// GoalRatio sets the goal "A at most max times B" and whether it is met.
func (p *Pair) GoalRatio(max float64) {
	met := p.Ratio > 0 && p.Ratio <= max
	p.Goal = fmt.Sprintf("<= %.2fx", max)
	p.Met = &met
}

// GoalFaster sets the goal "A at least times as fast as B" (ratio at most
// 1/times) and whether it is met.
func (p *Pair) GoalFaster(times float64) {
	met := p.Ratio > 0 && p.Ratio <= 1/times
	p.Goal = fmt.Sprintf("rtd >= %gx faster (ratio <= %.2fx)", times, 1/times)
	p.Met = &met
}

// Met returns a pointer to ok, for the Met fields.
func Met(ok bool) *bool { return &ok }
