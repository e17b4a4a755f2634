//go:build !linux

package agent

import (
	"fmt"
	"os"
	"runtime"
)

// Main reports that the agent only runs in a Linux guest.
func Main() {
	fmt.Fprintf(os.Stderr, "rtd-vm-agent runs as /init of a Linux guest, not on %s\n", runtime.GOOS)
	os.Exit(2)
}
