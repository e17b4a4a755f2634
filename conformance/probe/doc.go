// Package probe is the workload of the conformance suite: a static program
// that reports, from inside a container, what it sees (ids, capabilities,
// namespaces, mounts, limits, kernel) and performs the actions the cases
// need (exit N, write large output, allocate memory, fork, sleep, ignore
// SIGTERM, copy stdin).
//
// It has no dependency beyond the standard library and x/sys, so it builds
// as a small static binary (CGO_ENABLED=0).
package probe

import (
	"io"
	"math/rand"
)

// Pattern returns n deterministic pseudo-random bytes: the suite compares
// what arrives with the same pattern computed on the host.
func Pattern(n int64) io.Reader {
	return io.LimitReader(rand.New(rand.NewSource(42)), n)
}
