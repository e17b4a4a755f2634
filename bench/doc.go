// Package bench measures rtd against the bare backends in one run:
// alternating A/B samples (to cancel machine drift), medians and ratios.
// The runner is cmd/rtd-bench (make bench); results go to results.json and
// results.md, described in docs/performance.md. The package's test runs the
// runner's smoke mode (2 samples of everything) so that it cannot rot; the
// benchmarks themselves are not part of make test.
package bench
