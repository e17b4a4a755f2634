package lcmon

import (
	"testing"

	"github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// A bind mount loses its filesystem options (libcontainer v1.5 refuses
// them, the kernel ignores them) and a FIFO its major:minor; a tmpfs keeps
// its options and a character device its numbers.
func TestRuncCompat(t *testing.T) {
	bind := &configs.Mount{Source: "/etc", Destination: "/mnt", Device: "bind", Flags: unix.MS_BIND | unix.MS_REC, Data: "mode=755,size=1k"}
	tmpfs := &configs.Mount{Source: "tmpfs", Destination: "/tmp", Device: "tmpfs", Data: "mode=755,size=1k"}
	fifo := &config.Device{Path: "/dev/f", Rule: config.Rule{Type: config.FifoDevice, Major: 8, Minor: 666}}
	char := &config.Device{Path: "/dev/c", Rule: config.Rule{Type: config.CharDevice, Major: 10, Minor: 666}}
	c := &configs.Config{Mounts: []*configs.Mount{bind, tmpfs}, Devices: []*config.Device{fifo, char}}
	runcCompat(c)
	if bind.Data != "" {
		t.Errorf("bind mount data = %q, want none", bind.Data)
	}
	if tmpfs.Data != "mode=755,size=1k" {
		t.Errorf("tmpfs data = %q, want it kept", tmpfs.Data)
	}
	if fifo.Major != 0 || fifo.Minor != 0 {
		t.Errorf("fifo = %d:%d, want 0:0", fifo.Major, fifo.Minor)
	}
	if char.Major != 10 || char.Minor != 666 {
		t.Errorf("char device = %d:%d, want 10:666", char.Major, char.Minor)
	}
}
