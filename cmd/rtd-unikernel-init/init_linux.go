//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Process is /rtd/process.json: what to run (the driver writes it).
type Process struct {
	Args           []string
	Env            []string
	Cwd            string
	UID, GID       uint32
	AdditionalGids []uint32
	Hostname       string
	ReadonlyRoot   bool
}

// Markers the host reads: the exit status on the status disk, the probe's
// answer on the console.
const (
	exitMarker  = "rtd-exit: "
	probeMarker = "rtd-unikernel-init: probe ok"
)

func run() {
	console, err := os.OpenFile("/dev/console", os.O_WRONLY, 0)
	if err != nil {
		console = os.Stderr
	}
	code := boot(console)
	if err := report(code); err != nil {
		fmt.Fprintf(console, "rtd-unikernel-init: report exit status %d: %v\n", code, err)
	}
	unix.Sync()
	powerOff()
}

// report writes the exit code on the status disk (virtio serial "status"),
// which the host reads once QEMU has exited.
func report(code int) error {
	dev, err := findDisk("status", time.Second)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(dev, os.O_WRONLY|unix.O_SYNC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s%d\n", exitMarker, code); err != nil {
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
// to report (126/127 as a shell does when the program cannot run).
func boot(console *os.File) int {
	fail := func(code int, err error) int {
		fmt.Fprintf(console, "rtd-unikernel-init: %v\n", err)
		return code
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
	var p Process
	data, err := os.ReadFile("/rtd/process.json")
	if err == nil {
		err = json.Unmarshal(data, &p)
	}
	if err != nil || len(p.Args) == 0 {
		return fail(125, fmt.Errorf("no program to run: /rtd/process.json: %v", err))
	}
	if err := loadModules(); err != nil {
		return fail(125, err)
	}
	if err := mountRoot(p.ReadonlyRoot); err != nil {
		return fail(125, err)
	}
	if p.Hostname != "" {
		_ = unix.Sethostname([]byte(p.Hostname))
	}
	stdio, err := openStdio()
	if err != nil {
		return fail(125, err)
	}
	if err := unix.Chroot("/newroot"); err != nil {
		return fail(125, fmt.Errorf("chroot: %w", err))
	}
	cwd := p.Cwd
	if cwd == "" {
		cwd = "/"
	}
	if err := os.Chdir(cwd); err != nil {
		return fail(126, fmt.Errorf("cwd %s: %w", cwd, err))
	}
	return runProgram(p, stdio, fail)
}

// runProgram starts the program as init's child (the guest's pid 2, in its
// own session with ttyS0 as its terminal) and reaps every process until it
// has exited.
func runProgram(p Process, stdio [3]*os.File, fail func(int, error) int) int {
	path := p.Args[0]
	if !strings.Contains(path, "/") {
		for _, kv := range p.Env {
			if v, ok := strings.CutPrefix(kv, "PATH="); ok {
				os.Setenv("PATH", v)
			}
		}
		lp, err := exec.LookPath(path)
		if err != nil {
			return fail(127, fmt.Errorf("%s: not found in PATH", path))
		}
		path = lp
	}
	attr := &syscall.ProcAttr{
		Dir: "", Env: p.Env,
		Files: []uintptr{stdio[0].Fd(), stdio[1].Fd(), stdio[2].Fd()},
		Sys: &syscall.SysProcAttr{
			Setsid: true,
			Credential: &syscall.Credential{
				Uid: p.UID, Gid: p.GID, Groups: p.AdditionalGids, NoSetGroups: len(p.AdditionalGids) == 0 && p.UID == 0,
			},
		},
	}
	pid, err := syscall.ForkExec(path, p.Args, attr)
	if err != nil {
		code := 126
		if errors.Is(err, unix.ENOENT) {
			code = 127
		}
		return fail(code, fmt.Errorf("exec %s: %w", p.Args[0], err))
	}
	for _, f := range stdio {
		f.Close()
	}
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fail(255, fmt.Errorf("wait: %w", err))
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

// loadModules loads /lib/modules/modules.order's modules, in order.
func loadModules() error {
	f, err := os.Open("/lib/modules/modules.order")
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name := strings.TrimSpace(sc.Text())
		if name == "" {
			continue
		}
		m, err := os.Open(filepath.Join("/lib/modules", name))
		if err != nil {
			return err
		}
		err = unix.FinitModule(int(m.Fd()), "", 0)
		m.Close()
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("load module %s: %w", name, err)
		}
	}
	return sc.Err()
}

// mountRoot mounts the EROFS disk (virtio serial "rootfs") at /newroot,
// under an overlay whose upper layer is in memory unless the root is
// read-only, and the kernel filesystems inside it.
func mountRoot(readonly bool) error {
	dev, err := findDisk("rootfs", 10*time.Second)
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
	if !readonly {
		if err := mountAll([]mnt{
			{"tmpfs", "/layers/rw", "tmpfs", 0, "mode=0755"},
		}); err != nil {
			return err
		}
		for _, d := range []string{"/layers/rw/upper", "/layers/rw/work"} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		if err := mountAll([]mnt{{"overlay", "/newroot", "overlay", 0,
			"lowerdir=/layers/lower,upperdir=/layers/rw/upper,workdir=/layers/rw/work"}}); err != nil {
			return err
		}
	}
	var ms []mnt
	for _, m := range []mnt{
		{"proc", "/newroot/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
		{"sysfs", "/newroot/sys", "sysfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY, ""},
		{"devtmpfs", "/newroot/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755"},
		{"tmpfs", "/newroot/tmp", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
	} {
		if fi, err := os.Stat(m.target); err == nil && fi.IsDir() {
			ms = append(ms, m)
		}
	}
	return mountAll(ms)
}

// findDisk returns the block device whose virtio serial is serial.
func findDisk(serial string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		entries, _ := os.ReadDir("/sys/block")
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join("/sys/block", e.Name(), "serial"))
			if err == nil && strings.TrimSpace(string(data)) == serial {
				return "/dev/" + e.Name(), nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no disk with serial %q after %s", serial, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// openStdio opens the program's streams: ttyS0 (stdin, stdout) and ttyS1
// (stderr), in raw mode so that bytes pass unchanged (no echo, no CRLF).
func openStdio() ([3]*os.File, error) {
	var out [3]*os.File
	s0, err := os.OpenFile("/dev/ttyS0", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return out, err
	}
	s1, err := os.OpenFile("/dev/ttyS1", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return out, err
	}
	for _, f := range []*os.File{s0, s1} {
		if err := makeRaw(f); err != nil {
			return out, err
		}
	}
	in, err := os.OpenFile("/dev/ttyS0", os.O_RDONLY|unix.O_NOCTTY, 0)
	if err != nil {
		return out, err
	}
	out[0], out[1], out[2] = in, s0, s1
	return out, nil
}

func makeRaw(f *os.File) error {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t)
}
