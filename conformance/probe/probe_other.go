//go:build !linux && !wasip1

package probe

import (
	"fmt"
	"os"
	"runtime"
)

// Main reports that the probe is only implemented for Linux workloads.
func Main(args []string) int {
	fmt.Fprintf(os.Stderr, "probe: not implemented on %s\n", runtime.GOOS)
	return 2
}
