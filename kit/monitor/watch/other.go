//go:build !linux

package watch

import (
	"fmt"
	"os"
)

// Config is the watch's configuration; monitors exist on Linux only.
type Config struct{}

// Main fails: monitors exist on Linux only.
func Main(Config) int {
	fmt.Fprintln(os.Stderr, "rtd-monitor: monitors run on linux only")
	return 2
}
