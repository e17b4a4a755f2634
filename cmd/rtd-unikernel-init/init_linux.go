//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/drivers/unikernel/wire"
	"github.com/rtd-project/rtd/internal/guest"
)

func readProcess() (wire.Process, error) {
	var p wire.Process
	data, err := os.ReadFile(wire.ProcessFile)
	if err == nil {
		err = json.Unmarshal(data, &p)
	}
	if err == nil && len(p.Args) == 0 {
		err = errors.New("no args")
	}
	if err != nil {
		return p, fmt.Errorf("no program to run: %s: %v", wire.ProcessFile, err)
	}
	return p, nil
}

// Markers the host reads: the exit status on the status disk, the probe's
// answer on the console.
const (
	exitMarker  = "rtd-exit: "
	probeMarker = "rtd-unikernel-init: probe ok"
)

func run() {
	if len(os.Args) > 1 && os.Args[1] == stage2Arg {
		stage2()
	}
	console, err := os.OpenFile("/dev/console", os.O_WRONLY, 0)
	if err != nil {
		console = os.Stderr
	}
	code, oom := boot(console)
	if err := report(code, oom); err != nil {
		fmt.Fprintf(console, "rtd-unikernel-init: report exit status %d: %v\n", code, err)
	}
	unix.Sync()
	powerOff()
}

// report writes the exit code on the status disk (virtio serial "status"),
// which the host reads once QEMU has exited.
func report(code int, oom bool) error {
	dev, err := guest.FindDisk("status", time.Second)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(dev, os.O_WRONLY|unix.O_SYNC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	line := fmt.Sprintf("%s%d", exitMarker, code)
	if oom {
		line += " oom"
	}
	if _, err := fmt.Fprintln(f, line); err != nil {
		return err
	}
	return f.Sync()
}

// powerOff ends the VM at once through isa-debug-exit (a byte to I/O port
// 0xf4 through /dev/port), without the kernel's shutdown messages, and
// falls back to a kernel power-off.
func powerOff() {
	if f, err := os.OpenFile("/dev/port", os.O_WRONLY, 0); err == nil {
		_, _ = f.WriteAt([]byte{0}, 0xf4)
		f.Close()
	}
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

// boot prepares the guest and runs the program; it returns the exit code
// to report (125 when the guest could not be set up) and whether the
// kernel's OOM killer struck in the program's cgroup.
func boot(console *os.File) (int, bool) {
	fail := func(code int, err error) (int, bool) {
		fmt.Fprintf(console, "rtd-unikernel-init: %v\n", err)
		return code, false
	}
	if err := mountAll([]mnt{
		{"proc", "/proc", "proc", 0, ""},
		{"sysfs", "/sys", "sysfs", 0, ""},
		{"devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755"},
	}); err != nil {
		return fail(125, err)
	}
	if cmdline, _ := os.ReadFile("/proc/cmdline"); strings.Contains(" "+string(cmdline)+" ", " rtd.probe ") {
		fmt.Fprintln(console, probeMarker)
		powerOff()
	}
	p, err := readProcess()
	if err != nil {
		return fail(125, err)
	}
	if err := guest.LoadModules("/lib/modules", guest.NetModules...); err != nil {
		return fail(125, err)
	}
	if err := guest.ConfigureNetwork("/lib/modules", p.Net); err != nil {
		return fail(125, err)
	}
	if err := mountRoot(p.ReadonlyRoot, p.Binds); err != nil {
		return fail(125, err)
	}
	cg, err := programCgroup(p)
	if err != nil {
		return fail(125, err)
	}
	defer cg.Close()
	stdio, err := openStdio()
	if err != nil {
		return fail(125, err)
	}
	var ctl *os.File
	if p.Drain != "" {
		if ctl, err = guest.OpenPort("rtd.ctl", os.O_RDONLY, 10*time.Second); err != nil {
			return fail(125, err)
		}
		defer ctl.Close()
	}
	attr := &syscall.ProcAttr{
		Files: []uintptr{stdio[0].Fd(), stdio[1].Fd(), stdio[2].Fd()},
		Sys: &syscall.SysProcAttr{
			Setsid: true, Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS,
			UseCgroupFD: true, CgroupFD: int(cg.Fd()),
		},
	}
	pid, err := syscall.ForkExec("/init", []string{"/init", stage2Arg}, attr)
	if err != nil {
		return fail(125, fmt.Errorf("start the program's stage: %w", err))
	}
	code := reap(pid)
	if ctl != nil {
		if err := drainOutput(stdio[1], stdio[2], ctl, p.Drain); err != nil {
			fmt.Fprintf(console, "rtd-unikernel-init: %v\n", err)
		}
	}
	for _, f := range stdio {
		f.Close()
	}
	return code, oomKilled()
}

// drainOutput writes the end marker after the program's output on both
// ports and waits for the host's two acks: a port's write returns once its
// data is queued, and QEMU, which holds what a slow reader has not taken
// yet, drops the queue when the VM ends. Without a timeout: the host's
// reader sets the pace, as for any container's output (Kill ends the VM).
func drainOutput(stdout, stderr, ctl *os.File, marker string) error {
	for _, f := range []*os.File{stdout, stderr} {
		if _, err := f.WriteString(marker); err != nil {
			return fmt.Errorf("drain output: write end marker: %w", err)
		}
	}
	var acks [2]byte
	if _, err := io.ReadFull(ctl, acks[:]); err != nil {
		return fmt.Errorf("drain output: wait for the host: %w", err)
	}
	return nil
}

// reap waits for every process until pid (the program, pid 1 of its
// namespace) has exited, and returns its exit code (128+signal).
func reap(pid int) int {
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 255
		}
		if wpid != pid {
			continue
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}

// programCgroup makes the cgroup (v2) the program starts in, with the
// spec's memory and pids limits, and returns its directory open.
func programCgroup(p wire.Process) (*os.File, error) {
	const root = "/sys/fs/cgroup"
	if err := mountAll([]mnt{{"cgroup2", root, "cgroup2", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""}}); err != nil {
		return nil, err
	}
	_ = os.WriteFile(root+"/cgroup.subtree_control", []byte("+memory +pids"), 0)
	dir := root + "/program"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if p.MemoryLimit > 0 {
		if err := os.WriteFile(dir+"/memory.max", []byte(fmt.Sprint(p.MemoryLimit)), 0); err != nil {
			return nil, fmt.Errorf("memory limit: %w", err)
		}
		_ = os.WriteFile(dir+"/memory.swap.max", []byte("0"), 0)
	}
	if p.PidsLimit > 0 {
		if err := os.WriteFile(dir+"/pids.max", []byte(fmt.Sprint(p.PidsLimit)), 0); err != nil {
			return nil, fmt.Errorf("pids limit: %w", err)
		}
	}
	return os.Open(dir)
}

// oomKilled reports whether the OOM killer struck in the program's cgroup.
func oomKilled() bool {
	data, err := os.ReadFile("/sys/fs/cgroup/program/memory.events")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		var n int
		if _, err := fmt.Sscanf(line, "oom_kill %d", &n); err == nil && n > 0 {
			return true
		}
	}
	return false
}

type mnt struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

func mountAll(ms []mnt) error {
	for _, m := range ms {
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m.source, m.target, m.fstype, m.flags, m.data); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.target, err)
		}
	}
	return nil
}

// mountRoot mounts the EROFS disk (virtio serial "rootfs") at /newroot,
// under an overlay whose upper layer is in memory unless the root is
// read-only, and the binds disk at /binds. The program's stage mounts the
// rest, in its own namespaces.
func mountRoot(readonly, binds bool) error {
	dev, err := guest.FindDisk("rootfs", 10*time.Second)
	if err != nil {
		return err
	}
	lower := "/newroot"
	if !readonly {
		lower = "/layers/lower"
	}
	if err := mountAll([]mnt{{dev, lower, "erofs", unix.MS_RDONLY, ""}}); err != nil {
		return err
	}
	if binds {
		bdev, err := guest.FindDisk("binds", 10*time.Second)
		if err != nil {
			return err
		}
		if err := mountAll([]mnt{{bdev, "/binds", "erofs", unix.MS_RDONLY, ""}}); err != nil {
			return err
		}
	}
	if readonly {
		return nil
	}
	if err := mountAll([]mnt{{"tmpfs", "/layers/rw", "tmpfs", 0, "mode=0755"}}); err != nil {
		return err
	}
	for _, d := range []string{"/layers/rw/upper", "/layers/rw/work"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return mountAll([]mnt{{"overlay", "/newroot", "overlay", 0,
		"lowerdir=/layers/lower,upperdir=/layers/rw/upper,workdir=/layers/rw/work"}})
}

// openStdio opens the program's streams: /dev/null (stdin is not
// connected), the virtio-serial ports rtd.stdout and rtd.stderr, found by
// name once virtio_console is loaded.
func openStdio() ([3]*os.File, error) {
	var out [3]*os.File
	in, err := os.Open("/dev/null")
	if err != nil {
		return out, err
	}
	o, err := guest.OpenPort("rtd.stdout", os.O_WRONLY, 10*time.Second)
	if err != nil {
		return out, err
	}
	e, err := guest.OpenPort("rtd.stderr", os.O_WRONLY, 10*time.Second)
	if err != nil {
		return out, err
	}
	out[0], out[1], out[2] = in, o, e
	return out, nil
}
