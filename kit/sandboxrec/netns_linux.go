//go:build linux

package sandboxrec

import (
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
)

// CheckNetNS checks that the network namespace a sandbox spec names (if
// any) is a namespace file (nsfs, or a /proc/PID/ns/net link):
// InvalidArgument otherwise.
func CheckNetNS(spec *driver.SandboxSpec) error {
	if spec.NetNSPath == "" {
		return nil
	}
	var st unix.Statfs_t
	if err := unix.Statfs(spec.NetNSPath, &st); err != nil {
		return driver.InvalidArgumentf("create sandbox %s: network namespace %s: %v", spec.ID, spec.NetNSPath, err)
	}
	if st.Type != unix.NSFS_MAGIC && st.Type != unix.PROC_SUPER_MAGIC {
		return driver.InvalidArgumentf("create sandbox %s: network namespace %s: not a namespace file (nsfs)", spec.ID, spec.NetNSPath)
	}
	return nil
}
