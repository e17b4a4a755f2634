package agent

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/internal/guest"
)

// modulesDir holds the kernel modules in the initramfs, with modules.order
// listing the load order (dependencies first).
const modulesDir = "/lib/modules"

// mountSpec is one mount the guest needs.
type mountSpec struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

// baseMounts are the guest's own filesystems, in mount order.
func baseMounts() []mountSpec {
	return []mountSpec{
		{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
		{"sysfs", "/sys", "sysfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
		{"devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755"},
		{"devpts", "/dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"},
		{"tmpfs", "/dev/shm", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
		{"tmpfs", "/run", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=0755"},
		{"tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
		{"cgroup2", "/sys/fs/cgroup", "cgroup2", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, "nsdelegate"},
	}
}

// switchRoot makes the initramfs a real mount: libcontainer's pivot_root
// refuses to leave the kernel's rootfs, so /init bind-mounts the rootfs onto
// itself, moves that mount over / and chroots into it. The process goes on
// from there: executing /init again, as switch_root does, would start the Go
// runtime a second time (~0.1 s under TCG) for nothing.
func switchRoot() error {
	if err := os.MkdirAll("/newroot", 0o755); err != nil {
		return err
	}
	if err := unix.Mount("/", "/newroot", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind / onto /newroot: %w", err)
	}
	if err := unix.Chdir("/newroot"); err != nil {
		return err
	}
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move /newroot to /: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	return unix.Chdir("/")
}

// prepare mounts what the guest needs and loads the modules.
func prepare() error {
	for _, m := range baseMounts() {
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m.source, m.target, m.fstype, m.flags, m.data); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.target, err)
		}
	}
	for _, l := range [][2]string{{"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"}, {"pts/ptmx", "/dev/ptmx"}} {
		_ = os.Remove(l[1])
		_ = os.Symlink(l[0], l[1])
	}
	_ = os.WriteFile("/proc/sys/kernel/hostname", []byte("rtd-vm"), 0)
	if err := enableControllers(); err != nil {
		return err
	}
	return guest.LoadModules(modulesDir, append(append(slices.Clone(shareModules), loopModule), guest.NetModules...)...)
}

// enableControllers turns on every cgroup2 controller for the children of
// the root cgroup, where libcontainer creates the containers' cgroups.
func enableControllers() error {
	data, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
	if err != nil {
		return fmt.Errorf("cgroup2: %w", err)
	}
	var want []string
	for _, c := range strings.Fields(string(data)) {
		want = append(want, "+"+c)
	}
	if len(want) == 0 {
		return nil
	}
	return os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte(strings.Join(want, " ")), 0)
}

// mountLayered mounts the EROFS image of the disk with serial at target,
// read-only, under a writable overlay backed by tmpfs: the image is never
// written, changes live in guest memory.
func mountLayered(serial, target string) error {
	dev, err := guest.FindDisk(serial, 10*time.Second)
	if err != nil {
		return err
	}
	return mountLayeredDev(dev, target)
}

// mountLayeredDev mounts the EROFS image on block device dev at target,
// read-only, under a writable overlay backed by tmpfs.
func mountLayeredDev(dev, target string) error {
	base := target + ".layers"
	lower, upper, work := filepath.Join(base, "lower"), filepath.Join(base, "rw", "upper"), filepath.Join(base, "rw", "work")
	for _, d := range []string{lower, filepath.Join(base, "rw"), target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := unix.Mount(dev, lower, "erofs", unix.MS_RDONLY, ""); err != nil {
		return fmt.Errorf("mount %s (erofs) on %s: %w", dev, lower, err)
	}
	if err := unix.Mount("tmpfs", filepath.Join(base, "rw"), "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("mount tmpfs for %s: %w", target, err)
	}
	for _, d := range []string{upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	// The overlay's root takes the mode of the upper dir: give it the image's.
	if fi, err := os.Stat(lower); err == nil {
		_ = os.Chmod(upper, fi.Mode().Perm())
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work)
	if err := unix.Mount("overlay", target, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay on %s: %w", target, err)
	}
	return nil
}

// setClock sets the guest's wall clock to the host's.
func setClock(unixNano int64) error {
	if unixNano == 0 {
		return nil
	}
	ts := unix.NsecToTimespec(unixNano)
	return unix.ClockSettime(unix.CLOCK_REALTIME, &ts)
}

// kernelArg reports whether the kernel command line has arg.
func kernelArg(arg string) bool {
	data, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return false
	}
	for _, f := range strings.Fields(string(data)) {
		if f == arg {
			return true
		}
	}
	return false
}

// powerOff ends the VM. Should the kernel refuse, the reason goes to the
// console before pid 1 exits (the kernel then panics, and panic=-1 with
// QEMU's -no-reboot ends the VM anyway).
func powerOff() {
	unix.Sync()
	err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	fmt.Fprintf(os.Stderr, "rtd-vm-agent: power off: %v\n", err)
	os.Exit(1)
}

// reap collects every orphan that ends up with pid 1.
func reap() {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGCHLD)
	for range sigs {
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
