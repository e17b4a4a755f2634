//go:build wasip1

package probe

import (
	"fmt"
	"os"
)

// WASI preview 1 has no signals, processes, terminals or Linux syscalls:
// these commands say so and exit 2. The conformance cases that use them do
// not apply to the wasm isolation class (Case.NotFor).

func unavailable(cmd string) int {
	fmt.Fprintf(os.Stderr, "probe %s: not available in WASI preview 1\n", cmd)
	return 2
}

func ignoreTerm(int) int       { return unavailable("ignore-term") }
func trapTerm() int            { return unavailable("trap-term") }
func fork(int, bool) int       { return unavailable("fork") }
func winsize() int             { return unavailable("winsize") }
func trySyscall(string) string { return "ENOSYS" }
