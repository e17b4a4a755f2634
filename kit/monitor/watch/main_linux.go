//go:build linux

package watch

import (
	"math"
	"os"
	"sort"
	"strconv"

	"golang.org/x/sys/unix"
)

// Main is cmd/rtd-monitor's main after the re-execution: the descriptors of
// cfg were inherited; every other one above stderr is closed (close_range
// over the gaps, before the Go runtime opens any descriptor of its own), and
// the workload is watched.
func Main(cfg Config) int {
	keep := cfg.Descriptors()
	sort.Ints(keep)
	next := uint(3)
	for _, fd := range keep {
		unix.CloseOnExec(fd)
		if uint(fd) > next {
			_ = unix.CloseRange(next, uint(fd)-1, 0)
		}
		if uint(fd)+1 > next {
			next = uint(fd) + 1
		}
	}
	_ = unix.CloseRange(next, math.MaxUint32, 0)
	return Run(cfg, func(fd int) *os.File { return os.NewFile(uintptr(fd), "fd"+strconv.Itoa(fd)) })
}
