package vmm_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtd-project/rtd/internal/vmm"
)

// required are the options rtd's guests cannot do without, and who needs
// them. tinyconfig turns most of them off and kconfig silently drops an
// option whose dependency is missing, so the built .config is checked.
var required = map[string]string{
	"CONFIG_64BIT": "x86_64 guest", "CONFIG_PVH": "QEMU -kernel vmlinux (PVH entry)",
	"CONFIG_ACPI":                "microvm describes its virtio-mmio devices in ACPI, and powers off through it",
	"CONFIG_PCI":                 "microvm's ACPI tables load only with PCI (else power-off halts)",
	"CONFIG_SERIAL_8250_CONSOLE": "console=ttyS0",
	"CONFIG_PRINTK":              "boot messages on the console", "CONFIG_BLK_DEV_INITRD": "the initramfs holding the agent",
	"CONFIG_BINFMT_ELF": "executables", "CONFIG_BINFMT_SCRIPT": "#! scripts", "CONFIG_MULTIUSER": "uids and gids",
	"CONFIG_FUTEX": "Go runtime", "CONFIG_EPOLL": "Go runtime", "CONFIG_SIGNALFD": "containers",
	"CONFIG_TIMERFD": "containers", "CONFIG_EVENTFD": "Go runtime, libcontainer OOM events", "CONFIG_POSIX_TIMERS": "Go runtime",
	"CONFIG_SHMEM": "tmpfs", "CONFIG_TMPFS": "/run, /tmp, the writable layer", "CONFIG_TMPFS_XATTR": "overlay upper on tmpfs",
	"CONFIG_DEVTMPFS": "/dev", "CONFIG_UNIX98_PTYS": "terminals (devpts)", "CONFIG_PROC_FS": "/proc", "CONFIG_SYSFS": "/sys",
	"CONFIG_VIRTIO_MMIO": "microvm's virtio transport", "CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES": "virtio_mmio.device= on the command line",
	"CONFIG_VIRTIO_BLK": "rootfs and bind images", "CONFIG_VIRTIO_CONSOLE": "the agent's virtio-serial port",
	"CONFIG_VIRTIO_NET": "guest networking", "CONFIG_VIRTIO_FS": "read-write binds and volumes", "CONFIG_FUSE_FS": "virtiofs",
	"CONFIG_EROFS_FS": "rootfs images", "CONFIG_OVERLAY_FS": "writable root",
	"CONFIG_BLK_DEV_LOOP": "loop devices", "CONFIG_INET": "IPv4", "CONFIG_UNIX": "unix sockets",
	"CONFIG_NAMESPACES": "containers", "CONFIG_UTS_NS": "hostname", "CONFIG_IPC_NS": "ipc namespace", "CONFIG_PID_NS": "pid namespace",
	"CONFIG_NET_NS": "network namespace", "CONFIG_USER_NS": "user namespaces", "CONFIG_CGROUPS": "cgroup v2",
	"CONFIG_MEMCG": "memory limits, OOM", "CONFIG_CGROUP_PIDS": "pids limit", "CONFIG_CGROUP_SCHED": "cpu controller",
	"CONFIG_CFS_BANDWIDTH": "cpu quota", "CONFIG_CPUSETS": "cpuset", "CONFIG_CGROUP_FREEZER": "pause",
	"CONFIG_BPF_SYSCALL": "libcontainer's device filter on cgroup v2", "CONFIG_CGROUP_BPF": "libcontainer's device filter on cgroup v2",
	"CONFIG_SECCOMP": "seccomp profiles", "CONFIG_SECCOMP_FILTER": "seccomp profiles", "CONFIG_POSIX_MQUEUE": "/dev/mqueue",
	"CONFIG_SYSVIPC": "ipc", "CONFIG_PROC_SYSCTL": "spec sysctls",
}

// TestBuiltKernelConfig checks the config of the kernel hack/guest-kernel.sh
// built: every required option set, every line of the fragment as written,
// and no modules.
func TestBuiltKernelConfig(t *testing.T) {
	fragment := filepath.Join("..", "..", "hack", "guest-kernel", "microvm.config")
	out, err := exec.Command("bash", filepath.Join("..", "..", "hack", "guest-kernel.sh"), "--print-dir").Output()
	if err != nil {
		t.Fatalf("hack/guest-kernel.sh --print-dir: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		t.Skip("linux-source-6.1 is not installed: run hack/guest-kernel.sh (make test does)")
	}
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil {
		t.Skipf("no kernel built for this config in %s: run hack/guest-kernel.sh (make test does)", dir)
	}
	built := readConfig(t, filepath.Join(dir, "config"))
	for opt, why := range required {
		if built[opt] != "y" {
			t.Errorf("%s=%q in the built config, want y (%s)", opt, built[opt], why)
		}
	}
	if built["CONFIG_MODULES"] != "" {
		t.Errorf("CONFIG_MODULES=%s: the guest kernel must have everything built in", built["CONFIG_MODULES"])
	}
	for opt, want := range readConfig(t, fragment) {
		if built[opt] != want {
			t.Errorf("%s=%q in the built config, the fragment says %q (a dependency missing?)", opt, built[opt], want)
		}
	}
	k, err := vmm.LoadKernel(dir, "RTD_VM_KERNEL_DIR")
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Modules) != 0 || !strings.HasSuffix(k.Release, "-rtd") || !strings.Contains(k.Describe(), "rtd's microVM build") {
		t.Errorf("built kernel %+v (%s): want no modules, a -rtd release", k, k.Describe())
	}
}

// readConfig reads a kernel .config: option -> value ("" for "is not set").
func readConfig(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if opt, ok := strings.CutPrefix(line, "# "); ok && strings.HasSuffix(opt, " is not set") {
			m[strings.TrimSuffix(opt, " is not set")] = ""
		} else if opt, val, ok := strings.Cut(line, "="); ok && strings.HasPrefix(opt, "CONFIG_") {
			m[opt] = val
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}
