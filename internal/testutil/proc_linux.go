package testutil

import (
	"os"
	"strconv"
)

// Pids lists the processes in /proc, for the leak checks of tests and
// benchmarks (a monitor, a stand-in, a QEMU left behind).
func Pids() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
