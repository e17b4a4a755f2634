package vm

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/rtd-project/rtd/drivers/vm/wire"
)

// Guest sizing.
const (
	// defaultMemoryMiB sizes a guest whose spec sets no memory limit.
	defaultMemoryMiB = 512
	// minMemoryMiB is the smallest guest (kernel, agent, monitors, page cache).
	minMemoryMiB = 256
	// overheadMiB is added to a spec's memory limit: the guest's kernel,
	// agent and the overlay's tmpfs live outside the container's cgroup.
	overheadMiB = 192
	// defaultCPUs is the number of vCPUs of a guest.
	defaultCPUs = 1
)

// memoryMiB sizes the guest for a container memory limit (bytes, 0: none).
func memoryMiB(limit int64) int {
	if limit <= 0 {
		return defaultMemoryMiB
	}
	return max(minMemoryMiB, int((limit+(1<<20)-1)>>20)+overheadMiB)
}

// disk is a raw image handed to the guest as a read-only virtio-blk device.
type disk struct {
	path   string
	serial string
}

// vmConfig describes one guest.
type vmConfig struct {
	accel     string // "kvm" or "tcg"
	memoryMiB int
	cpus      int
	kernel    *kernel
	initrd    string
	tscKHz    int
	console   string // file receiving the serial console
	disks     []disk
	agentPort bool // ExtraFiles[0] of the QEMU process is the agent's socket
	probe     bool // boot only to tell whether the accelerator works
}

// kernelCmdline is the guest kernel's command line.
func (c vmConfig) kernelCmdline() string {
	args := []string{
		"console=ttyS0", "quiet", "panic=-1", "reboot=t", "pci=off",
		"cryptomgr.notests", "i8042.noaux", "i8042.nokbd", "i8042.nopnp",
		"random.trust_cpu=on", "rdinit=/init",
	}
	if c.accel == "tcg" && c.tscKHz > 0 {
		args = append(args, fmt.Sprintf("tsc_early_khz=%d", c.tscKHz))
	}
	if c.probe {
		args = append(args, wire.ProbeArg)
	}
	return strings.Join(args, " ")
}

// qemuArgs returns QEMU's command line (without the binary): a microvm with
// no default devices, the PVH kernel and initramfs, the serial console to a
// file, a virtio-serial port for the agent and the disks.
func (c vmConfig) qemuArgs() []string {
	cpu := "max"
	if c.accel == "kvm" {
		cpu = "host"
	}
	args := []string{
		"-M", "microvm,x-option-roms=off,pit=off,pic=off,isa-serial=on,rtc=on",
		"-accel", c.accel, "-cpu", cpu,
		"-m", fmt.Sprintf("%dM", c.memoryMiB), "-smp", fmt.Sprint(max(c.cpus, 1)),
		"-nodefaults", "-no-user-config", "-no-reboot",
		"-display", "none", "-monitor", "none",
		"-serial", "file:" + c.console,
		"-kernel", c.kernel.vmlinux, "-initrd", c.initrd,
		"-append", c.kernelCmdline(),
	}
	if c.agentPort {
		args = append(args,
			"-device", "virtio-serial-device,max_ports=2",
			"-chardev", "socket,id=agent,fd=3",
			"-device", "virtserialport,chardev=agent,name="+wire.PortName)
	}
	for i, d := range c.disks {
		id := fmt.Sprintf("disk%d", i)
		args = append(args,
			"-drive", fmt.Sprintf("file=%s,if=none,id=%s,format=raw,readonly=on", d.path, id),
			"-device", fmt.Sprintf("virtio-blk-device,drive=%s,serial=%s", id, d.serial))
	}
	return args
}

// qemuProcess is a running QEMU.
type qemuProcess struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once QEMU has been reaped
	// state is how QEMU ended; read it after done.
	state *os.ProcessState
}

// startQEMU starts QEMU in its own process group. It dies with the thread
// that started it (Pdeathsig), so a monitor that dies takes its VM along:
// that thread stays locked until QEMU has been reaped.
func startQEMU(path string, args []string, extra []*os.File, stderr io.Writer) (*qemuProcess, error) {
	cmd := exec.Command(path, args...)
	cmd.Stdin = nil
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &qemuProcess{cmd: cmd, done: make(chan struct{})}
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

// pid is QEMU's process id.
func (p *qemuProcess) pid() int { return p.cmd.Process.Pid }

// kill ends QEMU's whole process group.
func (p *qemuProcess) kill() {
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
}

// wait waits for QEMU to end, at most d; it reports whether it ended.
func (p *qemuProcess) wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// exitReason describes how QEMU ended ("qemu exited: signal 9 (killed)").
func (p *qemuProcess) exitReason() string {
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
