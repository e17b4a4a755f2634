package oneproc

import (
	"os"
	"runtime"
)

// prev is GOMAXPROCS before init set it to 1 (0: it was left alone).
var prev int

func init() {
	if os.Getenv("GOMAXPROCS") == "" {
		prev = runtime.GOMAXPROCS(1)
	}
}

// Restore sets GOMAXPROCS back to what the runtime chose at start, for a
// command that does CPU work in parallel.
func Restore() {
	if prev > 0 {
		runtime.GOMAXPROCS(prev)
	}
}
