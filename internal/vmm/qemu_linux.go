package vmm

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// Machine describes a QEMU microvm: no default devices, no firmware option
// ROMs, a PVH kernel booted directly.
type Machine struct {
	Accel     string // "kvm" or "tcg"
	MemoryMiB int
	CPUs      int
	Kernel    string // PVH ELF (a vmlinux, or a unikernel)
	Initrd    string // optional
	// Append is the kernel command line; it is one argument of -append,
	// whatever it holds.
	Append string
	// Serial are the -serial backends of the ISA serial ports, in order
	// (the first is ttyS0 at 0x3f8): "file:PATH", "chardev:ID", "null".
	Serial []string
	// DebugExit adds isa-debug-exit at port 0xf4: a guest's 32-bit write of
	// N there ends QEMU with status (N<<1)|1.
	DebugExit bool
}

// Disk is a raw image handed to the guest as a read-only virtio-blk device.
type Disk struct {
	Path   string
	Serial string
}

// LinuxCmdline is the part of a Linux guest's command line every rtd guest
// uses: the serial console, no reboot, no PCI, no self-tests, no PS/2, and
// under TCG the host's TSC rate (tscKHz, 0: unknown), without which microvm
// boots hang about half the time while calibrating the clock.
func LinuxCmdline(accel string, tscKHz int) []string {
	args := []string{
		"console=ttyS0", "quiet", "panic=-1", "reboot=t", "pci=off",
		"cryptomgr.notests", "i8042.noaux", "i8042.nokbd", "i8042.nopnp",
		"random.trust_cpu=on",
	}
	if accel == "tcg" && tscKHz > 0 {
		args = append(args, fmt.Sprintf("tsc_early_khz=%d", tscKHz))
	}
	return args
}

// Args returns QEMU's command line (without the binary and the disks).
func (m Machine) Args() []string {
	cpu := "max"
	if m.Accel == "kvm" {
		cpu = "host"
	}
	args := []string{
		"-M", "microvm,x-option-roms=off,pit=off,pic=off,isa-serial=on,rtc=on",
		"-accel", m.Accel, "-cpu", cpu,
		"-m", fmt.Sprintf("%dM", m.MemoryMiB), "-smp", fmt.Sprint(max(m.CPUs, 1)),
		"-nodefaults", "-no-user-config", "-no-reboot",
		"-display", "none", "-monitor", "none",
	}
	for _, s := range m.Serial {
		args = append(args, "-serial", s)
	}
	args = append(args, "-kernel", m.Kernel)
	if m.Initrd != "" {
		args = append(args, "-initrd", m.Initrd)
	}
	if m.Append != "" {
		args = append(args, "-append", m.Append)
	}
	if m.DebugExit {
		args = append(args, "-device", "isa-debug-exit,iobase=0xf4,iosize=4")
	}
	return args
}

// DiskArgs returns the -drive/-device pairs of read-only virtio-blk disks.
func DiskArgs(disks []Disk) []string {
	var args []string
	for i, d := range disks {
		id := fmt.Sprintf("disk%d", i)
		args = append(args,
			"-drive", fmt.Sprintf("file=%s,if=none,id=%s,format=raw,readonly=on", d.Path, id),
			"-device", fmt.Sprintf("virtio-blk-device,drive=%s,serial=%s", id, d.Serial))
	}
	return args
}

// Process is a running QEMU whose parent is this process.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once QEMU has been reaped
	// state is how QEMU ended; read it after done.
	state *os.ProcessState
}

// Start starts QEMU in its own process group. It dies with the thread that
// started it (Pdeathsig), so a parent that dies takes its VM along: that
// thread stays locked until QEMU has been reaped.
func Start(path string, args []string, extra []*os.File, stderr io.Writer) (*Process, error) {
	cmd := exec.Command(path, args...)
	cmd.Stdin = nil
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	return p, nil
}

// Pid is QEMU's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed once QEMU has been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Kill ends QEMU's whole process group.
func (p *Process) Kill() { KillGroup(p.Pid()) }

// Wait waits for QEMU to end, at most d; it reports whether it ended.
func (p *Process) Wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// ExitReason describes how QEMU ended ("qemu exited: signal 9 (killed)").
func (p *Process) ExitReason() string {
	st := p.state
	if st == nil {
		return "qemu exited"
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("qemu exited: signal %d (%s)", int(ws.Signal()), ws.Signal())
	}
	if st.ExitCode() == 0 {
		return "qemu exited with status 0: the guest powered off"
	}
	return fmt.Sprintf("qemu exited with status %d", st.ExitCode())
}

// KillGroup sends SIGKILL to the process group led by pid (QEMU and
// anything it started).
func KillGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}
