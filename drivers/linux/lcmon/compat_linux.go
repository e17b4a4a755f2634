package lcmon

import (
	"github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// runcCompat relaxes two checks libcontainer v1.5 makes that runc 1.1 (the
// runc of Debian 12, and of the engines built on it) did not, where the
// relaxed form is what the kernel does anyway, so that a bundle runc runs
// runs here too (runtime-tools' mounts and linux_devices):
//
//   - filesystem options on a bind mount ("bind,mode=755,size=1k"):
//     mount(2) ignores the data argument of MS_BIND and of a bind remount,
//     so runc 1.1 passed them to no effect; libcontainer v1.5 refuses the
//     mount ("bind mounts cannot have any filesystem-specific options
//     applied"). They are dropped.
//   - major:minor on a FIFO device (type p): the runtime spec requires them
//     only for c, b and u, mknod(2) ignores them for a FIFO, and
//     libcontainer v1.5 then refuses the node it made ("has incorrect
//     major:minor: 0:0 doesn't match expected 8:666"). They are zeroed.
func runcCompat(c *configs.Config) {
	for _, m := range c.Mounts {
		if m.Flags&unix.MS_BIND != 0 {
			m.Data = ""
		}
	}
	for _, d := range c.Devices {
		if d.Type == config.FifoDevice {
			d.Major, d.Minor = 0, 0
		}
	}
}
