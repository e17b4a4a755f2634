//go:build linux

package testutil

import (
	"os"
	"strings"
	"syscall"
)

// UnmountUnder detaches every mount below dir, deepest first, for the
// cleanup of a test whose daemons (containerd, an engine) mounted there.
func UnmountUnder(dir string) {
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	var mps []string
	for _, line := range strings.Split(string(mi), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			mps = append(mps, f[4])
		}
	}
	for i := len(mps) - 1; i >= 0; i-- {
		_ = syscall.Unmount(mps[i], syscall.MNT_DETACH)
	}
}
