package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/drivers/vm/wire"
	"github.com/rtd-project/rtd/internal/guest"
)

// shareModules are the modules virtiofs needs, in load order; the agent
// loads them only for a guest that has shares (each costs boot time under
// TCG).
var shareModules = []string{"fuse.ko", "virtiofs.ko"}

// mountShares mounts the host's virtiofs shares 0..n-1 (directories the
// host's virtiofsd serves, live: writes reach the host) at their
// wire.ShareSource, where the container's bind mounts take them from.
// The guest's linux driver then bind-mounts them into the container,
// resolving each target inside the container's root.
func mountShares(n int) error {
	if n > 0 && !builtIn("virtiofs") {
		for _, m := range shareModules {
			path := filepath.Join(modulesDir, m)
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("the guest kernel cache has no %s (virtiofs, for read-write binds and volumes): run hack/vm-kernel.sh again", m)
			}
			if err := guest.LoadModule(path); err != nil {
				return err
			}
		}
	}
	for i := 0; i < n; i++ {
		dir := wire.ShareSource(i)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(wire.ShareTag(i), dir, "virtiofs", unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
			return fmt.Errorf("mount virtiofs %s on %s: %w", wire.ShareTag(i), dir, err)
		}
	}
	return nil
}

// builtIn says whether the guest kernel knows filesystem fs already (built
// in, as in rtd's own guest kernel): then there is no module to load.
func builtIn(fs string) bool {
	data, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == fs {
			return true
		}
	}
	return false
}
