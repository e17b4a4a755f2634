package vm

import (
	"strings"

	"github.com/rtd-project/rtd/drivers/vm/wire"
	"github.com/rtd-project/rtd/internal/vmm"
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

// vmConfig describes one guest.
type vmConfig struct {
	accel     string // "kvm" or "tcg"
	memoryMiB int
	cpus      int
	kernel    *vmm.Kernel
	initrd    string
	tscKHz    int
	console   string // file receiving the serial console
	disks     []vmm.Disk
	shares    []string // vhost-user sockets of the virtiofs shares, in order
	agentPort bool     // ExtraFiles[0] of the QEMU process is the agent's socket
	// nics are the MAC addresses of the guest's virtio-net devices, one
	// per tap: ExtraFiles[1+i] (fd 4+i) of the QEMU process is nic i's.
	nics  []string
	probe bool // boot only to tell whether the accelerator works
}

// kernelCmdline is the guest kernel's command line.
func (c vmConfig) kernelCmdline() string {
	args := append(vmm.LinuxCmdline(c.accel, c.tscKHz), "rdinit=/init")
	if c.probe {
		args = append(args, wire.ProbeArg)
	}
	return strings.Join(args, " ")
}

// qemuArgs returns QEMU's command line (without the binary): a microvm with
// no default devices, the PVH kernel and initramfs, the serial console to a
// file, a virtio-serial port for the agent and the disks.
func (c vmConfig) qemuArgs() []string {
	args := vmm.Machine{
		Accel: c.accel, MemoryMiB: c.memoryMiB, CPUs: c.cpus,
		Serial: []string{"file:" + c.console},
		Kernel: c.kernel.Vmlinux, Initrd: c.initrd, Append: c.kernelCmdline(),
	}.Args()
	if c.agentPort {
		args = append(args,
			"-device", "virtio-serial-device,max_ports=2",
			"-chardev", "socket,id=agent,fd=3",
			"-device", "virtserialport,chardev=agent,name="+wire.PortName)
	}
	args = append(args, vmm.NICArgs(4, c.nics)...)
	args = append(args, shareArgs(c.memoryMiB, c.shares)...)
	return append(args, vmm.DiskArgs(c.disks)...)
}
