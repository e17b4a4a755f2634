// Package bench measures rtd against the bare backends in one run:
// alternating A/B samples (to cancel machine drift), medians and ratios.
// The runner is cmd/rtd-bench (make bench); results go to results.json and
// results.md. See docs/performance.md.
package bench
