package core

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
)

// overlaySupported says whether mountOverlay works here.
const overlaySupported = true

// mountOverlay mounts an overlay with lower read-only below and an upper
// directory of its own in dir (dir/snapshot/{upper,work}) at dir/rootfs,
// and returns dir/rootfs. RemoveRecord unmounts it and removes the upper
// directory with the record.
func mountOverlay(lower, dir string) (string, error) {
	if strings.ContainsAny(lower, ",:") {
		return "", driver.InvalidArgumentf("root filesystem %s: a path with ',' or ':' cannot be an overlay's lower directory; move or link it elsewhere", lower)
	}
	fi, err := os.Stat(lower)
	if err != nil {
		return "", fmt.Errorf("overlay over %s: %w", lower, err)
	}
	upper := filepath.Join(dir, "snapshot", "upper")
	work := filepath.Join(dir, "snapshot", "work")
	merged := filepath.Join(dir, "rootfs")
	for _, d := range []string{upper, work, merged} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", fmt.Errorf("overlay over %s: %w", lower, err)
		}
	}
	// The root directory of the merged tree takes the upper's attributes.
	if err := os.Chmod(upper, fi.Mode().Perm()); err != nil {
		return "", fmt.Errorf("overlay over %s: %w", lower, err)
	}
	if st, ok := fi.Sys().(*unix.Stat_t); ok {
		if err := os.Lchown(upper, int(st.Uid), int(st.Gid)); err != nil {
			return "", fmt.Errorf("overlay over %s: %w", lower, err)
		}
	}
	data := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", merged, "overlay", 0, data); err != nil {
		return "", driver.FailedPreconditionf("mount an overlay over %s at %s: %v (rtd needs overlayfs and root)", lower, merged, err)
	}
	return merged, nil
}
