package bench

import (
	"fmt"
	"sort"
	"time"
)

// Sample runs one measured operation and returns its duration.
type Sample func() (time.Duration, error)

// Pair is an A/B comparison: rtd (A) against the bare backend (B).
type Pair struct {
	Name     string
	A, B     string // labels
	MedianA  time.Duration
	MedianB  time.Duration
	Ratio    float64 // MedianA / MedianB
	N        int
	Goal     string
	Met      *bool `json:",omitempty"`
	Note     string
	SamplesA []time.Duration `json:"-"`
	SamplesB []time.Duration `json:"-"`
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

// AB alternates a and b n times after one warm-up of each.
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
		if i%2 == 1 { // ABBA order cancels drift within a pair
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

// Goal sets the goal text and whether the ratio meets max (ratio <= max).
func (p *Pair) GoalRatio(max float64) {
	met := p.Ratio <= max
	p.Goal = fmt.Sprintf("<= %.2fx", max)
	p.Met = &met
}
