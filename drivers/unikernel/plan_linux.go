package unikernel

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/unikernel/wire"
	"github.com/rtd-project/rtd/internal/vmm"
)

// initName is the linux guest's init binary (cmd/rtd-unikernel-init).
const initName = "rtd-unikernel-init"

// Guest memory, MiB.
const (
	pvhMemoryMiB   = 32
	linuxMemoryMiB = 256
	linuxOverhead  = 64 // kernel and init, outside the program's limit
)

// assets are what booting a guest needs on the host.
type assets struct {
	qemu     string
	mkfs     string
	kernel   *vmm.Kernel
	init     string
	problems []string // for the linux guest; pvh needs only qemu
}

func findAssets(exe string) *assets {
	a := &assets{}
	q := os.Getenv(QEMUEnv)
	if q == "" {
		q = "qemu-system-x86_64"
	}
	if p, err := exec.LookPath(q); err == nil {
		a.qemu = p
	}
	if p, err := exec.LookPath("mkfs.erofs"); err != nil {
		a.problems = append(a.problems, "mkfs.erofs not found: install erofs-utils (make deps)")
	} else {
		a.mkfs = p
	}
	if k, err := vmm.FindKernel(KernelDirEnv); err != nil {
		a.problems = append(a.problems, err.Error())
	} else {
		a.kernel = k
	}
	a.init = os.Getenv(InitEnv)
	if a.init == "" {
		for _, p := range []string{filepath.Join(filepath.Dir(exe), initName), filepath.Join("/usr/libexec/rtd", initName)} {
			if _, err := os.Stat(p); err == nil {
				a.init = p
				break
			}
		}
	}
	if a.init == "" {
		a.problems = append(a.problems, initName+" not found next to the driver: build it (make build) or set "+InitEnv)
	}
	return a
}

// linuxReady says why the linux guest cannot boot, nil if it can.
func (a *assets) linuxReady() error {
	if len(a.problems) > 0 {
		return fmt.Errorf("linux guest: %s", strings.Join(a.problems, "; "))
	}
	return nil
}

// endMarker is a fresh output end marker: a nonce the program cannot guess
// (it never sees /rtd/process.json), with a NUL that text output lacks.
func endMarker() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "\x00rtd-end:" + hex.EncodeToString(b) + "\x00", nil
}

// machine is one container's VM, ready to start.
type machine struct {
	vmm.Machine
	disks  []string // extra -drive/-device arguments
	qmp    string   // QMP socket path
	stderr bool     // ttyS1 is the container's stderr (fd 3 of QEMU)
	// drain is the end marker rtd's init writes after the program's
	// output; the host acks on the rtd.ctl port (QEMU's fd 4).
	drain string
}

// args returns QEMU's argv (without the binary): paused (-S) until Start
// continues it through QMP. No value of the bundle's annotations is on it
// but the guest command line, which is the single argument of -append.
func (m machine) args() []string {
	args := m.Machine.Args()
	if m.stderr {
		// The program's output: two virtio-serial ports (rtd.stdout on
		// QEMU's stdout, rtd.stderr on its fd 3), far faster than a UART
		// under TCG and flow-controlled (a virtconsole drops output when
		// the host is slow). Output-only chardevs: a stdio chardev would
		// disconnect the port at the end of stdin. The kernel's console
		// is ttyS0.
		args = append(args,
			"-device", "virtio-serial-device,max_ports=4",
			"-chardev", "file,id=stdout,path=/dev/fd/1",
			"-device", "virtserialport,chardev=stdout,name=rtd.stdout",
			"-chardev", "file,id=stderr,path=/dev/fd/3",
			"-device", "virtserialport,chardev=stderr,name=rtd.stderr")
	}
	if m.drain != "" {
		// The host's acks that the output before the end marker left
		// QEMU: until then the guest does not end, which would drop
		// what QEMU still holds in the ports' queues. A pipe chardev
		// opens /dev/fd/4 read-write (no ".in" and ".out" beside it).
		args = append(args,
			"-chardev", "pipe,id=ctl,path=/dev/fd/4",
			"-device", "virtserialport,chardev=ctl,name=rtd.ctl")
	}
	args = append(args, m.disks...)
	return append(args, "-S", "-qmp", "unix:"+m.qmp+",server=on,wait=off")
}

// guestCmdline is the command line of a pvh or unikraft guest: the
// cmdline annotation, else the process's arguments after the first.
func guestCmdline(cfg *Config, spec *specs.Spec) string {
	if cfg.Cmdline != "" {
		return cfg.Cmdline
	}
	if spec.Process != nil && len(spec.Process.Args) > 1 {
		return strings.Join(spec.Process.Args[1:], " ")
	}
	return ""
}

// linuxCmdline is the linux guest's kernel command line: rtd's init, the
// kernel's console on ttyS0 (console.log in the container's dir), then the
// cmdline annotation if any.
func linuxCmdline(accel string, tscKHz int, cfg *Config, probe bool) string {
	args := append(vmm.LinuxCmdline(accel, tscKHz), "rdinit=/init")
	if probe {
		args = append(args, "rtd.probe")
	}
	if cfg != nil && cfg.Cmdline != "" {
		args = append(args, cfg.Cmdline)
	}
	return strings.Join(args, " ")
}

// memoryMiB sizes a guest for a spec's memory limit.
func memoryMiB(guest string, spec *specs.Spec) int {
	var limit int64
	if r := spec.Linux; r != nil && r.Resources != nil && r.Resources.Memory != nil && r.Resources.Memory.Limit != nil {
		limit = *r.Resources.Memory.Limit
	}
	base, over := pvhMemoryMiB, 0
	if guest == GuestLinux {
		base, over = linuxMemoryMiB, linuxOverhead
	}
	if limit <= 0 {
		return base
	}
	return max(int((limit+(1<<20)-1)>>20)+over, 16)
}

// prepare builds what the container's VM boots from, in its dir: the
// kernel (copied out of the rootfs: the path is resolved inside it once,
// and a later swap cannot redirect QEMU), the initrd, the root filesystem's
// EROFS image and the status disk of a linux guest.
func prepare(ctx context.Context, a *assets, dir, bundle, rootfs string, cfg *Config, spec *specs.Spec, accel vmm.AccelAnswer, qmp string) (machine, error) {
	m := machine{qmp: qmp}
	m.Accel, m.CPUs = accel.Accel, 1
	m.MemoryMiB = memoryMiB(cfg.Type, spec)
	if cfg.Binary != "" {
		src, err := Resolve(rootfs, AnnotBinary, cfg.Binary)
		if err != nil {
			return m, err
		}
		m.Kernel = filepath.Join(dir, "kernel")
		if err := copyFile(src, m.Kernel); err != nil {
			return m, err
		}
	}
	if cfg.Initrd != "" {
		src, err := Resolve(rootfs, AnnotInitrd, cfg.Initrd)
		if err != nil {
			return m, err
		}
		m.Initrd = filepath.Join(dir, "initrd")
		if err := copyFile(src, m.Initrd); err != nil {
			return m, err
		}
	}
	if cfg.Type != GuestLinux {
		n, err := guestNet(spec)
		if err != nil {
			return m, err
		}
		if m.Append, err = GuestCmdline(cfg.Type, guestCmdline(cfg, spec), nil, n); err != nil {
			return m, err
		}
		m.Serial = []string{"stdio"}
		m.DebugExit = true
		m.disks = append(m.disks, QEMUGuestArgs(cfg.Type)...)
		return m, nil
	}
	if err := a.linuxReady(); err != nil {
		return m, driver.FailedPreconditionf("%v", err)
	}
	if m.Kernel == "" {
		m.Kernel = a.kernel.Vmlinux
	}
	m.Append = linuxCmdline(accel.Accel, accel.TSCKHz, cfg, false)
	m.Serial = []string{"file:" + filepath.Join(dir, consoleFile)}
	m.DebugExit = true
	m.stderr = true
	var extra []vmm.Disk // after the rootfs
	if m.Initrd == "" {
		p, binds := guestProcessOf(bundle, spec)
		net, err := guestNetwork(spec)
		if err != nil {
			return m, err
		}
		p.Net = net
		if p.Drain, err = endMarker(); err != nil {
			return m, err
		}
		m.drain = p.Drain
		if len(binds) > 0 {
			img := filepath.Join(dir, "binds.img")
			if err := bindsImage(ctx, a.mkfs, img, filepath.Join(dir, "binds"), binds); err != nil {
				return m, err
			}
			extra = append(extra, vmm.Disk{Path: img, Serial: "binds"})
		}
		data, err := json.Marshal(p)
		if err != nil {
			return m, err
		}
		files := append(initFiles(a), vmm.File{Name: strings.TrimPrefix(wire.ProcessFile, "/"), Mode: vmm.ModeReg | 0o644, Data: data})
		m.Initrd = filepath.Join(dir, "initrd")
		f, err := os.OpenFile(m.Initrd, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return m, err
		}
		err = vmm.WriteCpio(f, files)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return m, fmt.Errorf("initramfs: %w", err)
		}
	}
	// An image's block image is cached with its snapshot (vmm.RootfsImage).
	img, _, err := vmm.RootfsImage(ctx, a.mkfs, rootfs, spec.Annotations[vmm.AnnotSnapshot], filepath.Join(dir, "rootfs.img"))
	if err != nil {
		return m, fmt.Errorf("rootfs image: %w", err)
	}
	status := filepath.Join(dir, statusFile)
	if err := os.WriteFile(status, make([]byte, 4096), 0o600); err != nil {
		return m, err
	}
	m.disks = append(vmm.DiskArgs(append([]vmm.Disk{{Path: img, Serial: "rootfs"}}, extra...)),
		"-drive", "file="+status+",if=none,id=status,format=raw",
		"-device", "virtio-blk-device,drive=status,serial=status")
	return m, nil
}

// Files of a linux guest in the container dir: the status disk and the
// kernel's console.
const (
	statusFile  = "status.img"
	consoleFile = "console.log"
)

// initFiles is the linux guest's initramfs without the process: rtd's init,
// the device nodes a Go program needs before devtmpfs, the modules.
func initFiles(a *assets) []vmm.File {
	files := []vmm.File{
		{Name: "dev", Mode: vmm.ModeDir | 0o755},
		{Name: "dev/console", Mode: vmm.ModeChar | 0o600, RdevMajor: 5, RdevMinor: 1},
		{Name: "dev/null", Mode: vmm.ModeChar | 0o666, RdevMajor: 1, RdevMinor: 3},
	}
	for _, d := range []string{"proc", "sys", "newroot", "layers", "binds", "rtd", "lib", "lib/modules"} {
		files = append(files, vmm.File{Name: d, Mode: vmm.ModeDir | 0o755})
	}
	files = append(files, vmm.File{Name: "init", Mode: vmm.ModeReg | 0o755, HostPath: a.init})
	for _, m := range a.kernel.Modules {
		files = append(files, vmm.File{Name: "lib/modules/" + m, Mode: vmm.ModeReg | 0o644, HostPath: filepath.Join(a.kernel.Dir, "modules", m)})
	}
	order := strings.Join(a.kernel.Modules, "\n") + "\n"
	return append(files, vmm.File{Name: "lib/modules/modules.order", Mode: vmm.ModeReg | 0o644, Data: []byte(order)})
}

// guestProcessOf is what the init applies of the spec; it returns the host
// sources of the spec's bind mounts, in order.
func guestProcessOf(bundle string, spec *specs.Spec) (wire.Process, []string) {
	sp := spec.Process
	p := wire.Process{
		Args: sp.Args, Env: sp.Env, Cwd: sp.Cwd, Hostname: spec.Hostname,
		UID: sp.User.UID, GID: sp.User.GID, AdditionalGids: sp.User.AdditionalGids,
		ReadonlyRoot: spec.Root != nil && spec.Root.Readonly, NoNewPrivileges: sp.NoNewPrivileges,
	}
	for _, r := range sp.Rlimits {
		p.Rlimits = append(p.Rlimits, wire.Rlimit{Type: r.Type, Hard: r.Hard, Soft: r.Soft})
	}
	if c := sp.Capabilities; c != nil {
		p.Caps = &wire.Caps{Bounding: c.Bounding, Effective: c.Effective, Permitted: c.Permitted, Inheritable: c.Inheritable, Ambient: c.Ambient}
	}
	if r := spec.Linux; r != nil && r.Resources != nil {
		if r.Resources.Memory != nil && r.Resources.Memory.Limit != nil {
			p.MemoryLimit = *r.Resources.Memory.Limit
		}
		if r.Resources.Pids != nil && r.Resources.Pids.Limit != nil {
			p.PidsLimit = *r.Resources.Pids.Limit
		}
	}
	var binds []string
	for _, m := range spec.Mounts {
		gm := wire.Mount{Destination: m.Destination, Type: m.Type, Source: m.Source, Options: m.Options}
		if isBind(m) {
			src := m.Source
			if !filepath.IsAbs(src) {
				src = filepath.Join(bundle, src)
			}
			gm.Type, gm.Source = "bind", fmt.Sprint(len(binds))
			binds = append(binds, src)
		}
		p.Mounts = append(p.Mounts, gm)
	}
	p.Binds = len(binds) > 0
	return p, binds
}

func isBind(m specs.Mount) bool {
	return m.Type == "bind" || slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind")
}

// bindsImage copies the bind sources into staging (source i at i, a file
// or a tree) and builds an EROFS image of it: a snapshot taken at create.
func bindsImage(ctx context.Context, mkfs, img, staging string, sources []string) error {
	if err := os.MkdirAll(staging, 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	for i, src := range sources {
		if _, err := os.Stat(src); err != nil {
			return driver.InvalidArgumentf("bind mount source %s: %v", src, err)
		}
		out, err := exec.CommandContext(ctx, "cp", "-a", "--reflink=auto", src, filepath.Join(staging, fmt.Sprint(i))).CombinedOutput()
		if err != nil {
			return fmt.Errorf("copy bind source %s: %v: %s", src, err, strings.TrimSpace(string(out)))
		}
	}
	return vmm.MkfsErofs(ctx, mkfs, img, staging)
}

// copyFile copies a regular file without following a symlink at src.
func copyFile(src, dst string) error {
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return driver.InvalidArgumentf("open %s: %v", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
