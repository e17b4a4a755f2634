package unikernel

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/vmm"
	"github.com/rtd-project/rtd/kit/monitor"
)

// Options configure a Driver.
type Options struct {
	// StateDir holds the driver's state; default /run/rtd/drivers/unikernel.
	StateDir string
	Logger   hclog.Logger
	// Version is reported by Info.
	Version string
}

// Driver runs each container as the only program of a QEMU microVM. It
// keeps no state in memory: the container dirs and the per-container
// monitors hold it, so the driver process may exit at any time.
type Driver struct {
	driver.Unimplemented // exec, pause, stats, update, pids, events, ...
	layout               monitor.Layout
	c                    *monitor.Containers
	log                  hclog.Logger
	version              string
	exe                  string
}

var _ driver.Driver = (*Driver)(nil)

// New returns a unikernel driver.
func New(opts Options) *Driver {
	o := monitor.Options(opts)
	c := o.Containers("unikernel")
	return &Driver{layout: c.Layout, c: c, log: o.Logger, version: o.Version, exe: c.Exe}
}

// Info describes the driver and probes the host: QEMU, the linux guest's
// kernel, init and erofs-utils, and which accelerator really boots.
func (d *Driver) Info(ctx context.Context) (*driver.Info, error) {
	a := findAssets(d.exe)
	iso := driver.Isolation{
		Class:            driver.IsolationUnikernel,
		SharesHostKernel: false,
		GuestKernel:      "the image's own unikernel (pvh, unikraft, mewz, hermit); for the linux guest, unknown: no guest kernel cached",
		SyscallFilter:    "none inside the guest (a unikernel has no syscall boundary; the linux guest refuses a seccomp profile, so rtd run leaves docker's default profile out for this driver); the host sees only QEMU's syscalls",
		UserNamespaces:   false,
		CapabilityModel:  "pvh/unikraft: none apply, the unikernel is the whole guest; linux guest: the spec's capability sets and user, inside the guest kernel (root there is not root of the host)",
		Rootless:         false,
		ResourceAccounting: fmt.Sprintf("the VM's size: memory = the spec's limit (linux guest: + %d MiB, the limit itself enforced by a guest cgroup with the pids limit), else %d MiB (pvh) or %d MiB (linux); 1 vCPU",
			linuxOverhead, pvhMemoryMiB, linuxMemoryMiB),
		Platform: deviceModel,
		KnownGaps: []string{
			"no exec, no pause, no stats: the workload is the VM's only program and there is no agent",
			"signals stop the VM (QEMU is the container's process); the guest program sees none, and the exit status reports the signal",
			"network: a spec's network namespace (the core's bridge or user network through CNI) is handed to the VM as a tap with tc redirection and a virtio-net device with the interface's MAC; the linux guest's init configures it as the namespace's interface (address, routes), a unikraft, mewz or hermit guest gets the device and the namespace's first IPv4 address and gateway on its command line (urunc's syntax), a pvh guest the device only",
			"the linux guest's root filesystem is an EROFS copy of the bundle's root with a writable layer in guest memory: writes are lost; bind mounts are copies taken at create",
			"the linux guest applies the spec's user, capabilities, rlimits, no_new_privs, mounts, hostname and memory/pids limits (in a guest cgroup); a seccomp profile is refused; hooks are not run",
			"pvh and unikraft guests apply nothing of the spec's process but its arguments (no user, capabilities or limits: the unikernel is the whole guest)",
			"stdin: a pvh guest reads it on its serial console without an end of file; the linux guest's program has /dev/null",
			"the linux guest ends only once the host's monitor took all of its output (an end marker and an ack per stream): a reader that stops reading keeps the VM up, as it would block a process (Kill still ends it); a pvh guest's serial console loses at most the byte in flight",
			"a pvh or unikraft guest with no cmdline annotation gets the process's arguments on its kernel command line, which ps on the host shows",
			"guests x monitors: pvh, unikraft, linux, mewz, hermit on QEMU run (mewz and hermit unverified: no image here); linux on firecracker/cloud-hypervisor, unikraft on firecracker, rumprun and mirage on Solo5 hvt/spt are accepted by the allowlist but refused at create (FailedPrecondition naming the missing binary, NotImplemented when present): their argv and config builders are unit-tested, never run here",
		},
	}
	iso.KnownGaps = append(iso.KnownGaps, MonitorStatus(exec.LookPath)...)
	if a.kernel != nil {
		iso.GuestKernel = "the image's own unikernel (pvh, unikraft, mewz, hermit); linux guest: " + a.kernel.Describe() + " with rtd's init"
	}
	health := driver.Health{Ready: true}
	switch {
	case a.qemu == "":
		health = driver.Health{Reason: "qemu-system-x86_64 not found: install QEMU (apt-get install qemu-system-x86, or make deps)"}
	default:
		if err := os.MkdirAll(d.layout.ContainersDir(), 0o700); err != nil {
			health = driver.Health{Reason: fmt.Sprintf("state dir %s is not writable: %v", d.layout.Root, err)}
			break
		}
		accel := d.accel(a)
		iso.Platform = deviceModel + ", " + accel.Accel
		if accel.Reason != "" {
			iso.Platform += " (" + accel.Reason + ")"
		}
		if err := a.linuxReady(); err != nil {
			iso.KnownGaps = append(iso.KnownGaps, "linux guest unavailable: "+err.Error())
		}
	}
	return &driver.Info{
		Name:            "unikernel",
		Version:         d.version,
		ContractVersion: driver.ContractVersion,
		OS:              runtime.GOOS,
		Arch:            runtime.GOARCH,
		Isolation:       iso,
		Capabilities:    driver.Capabilities{NetworkNamespace: true},
		Health:          health,
	}, nil
}

// accel decides between KVM and TCG: a real boot of the linux guest's
// kernel with rtd's init in probe mode (cached per QEMU and kernel). Without
// a linux guest there is nothing trustworthy to boot: TCG.
func (d *Driver) accel(a *assets) vmm.AccelAnswer {
	if v := os.Getenv(AccelEnv); v == "kvm" || v == "tcg" {
		return vmm.AccelProbe{Env: AccelEnv}.Run(d.log)
	}
	if err := a.linuxReady(); err != nil {
		return vmm.AccelAnswer{Accel: "tcg", Reason: "kvm not probed: no linux guest to boot", TSCKHz: vmm.HostTSCKHz()}
	}
	return vmm.AccelProbe{
		CacheFile: filepath.Join(d.layout.Root, "accel.json"), QEMU: a.qemu, Kernel: a.kernel.Release, Env: AccelEnv,
		Boot: func() error { return d.probeKVM(a) },
	}.Run(d.log)
}

func (d *Driver) probeKVM(a *assets) error {
	dir, err := os.MkdirTemp(d.layout.Root, "kvm-probe-")
	if err != nil {
		return fmt.Errorf("kvm: not probed: %v", err)
	}
	defer os.RemoveAll(dir)
	initrd, err := vmm.Initramfs(filepath.Join(d.layout.Root, "initramfs"), initFiles(a))
	if err != nil {
		return fmt.Errorf("kvm: not probed: %v", err)
	}
	console := filepath.Join(dir, "console.log")
	m := vmm.Machine{
		Accel: "kvm", MemoryMiB: linuxMemoryMiB, CPUs: 1, Kernel: a.kernel.Vmlinux, Initrd: initrd,
		Append: linuxCmdline("kvm", 0, nil, true), Serial: []string{"file:" + console}, DebugExit: true,
	}
	return vmm.ProbeBoot(a.qemu, m.Args(), console, probeMarker)
}

// deviceModel is what the guest sees of the host: QEMU's microvm devices.
const deviceModel = "qemu microvm (ISA serial port, isa-debug-exit; linux guest: virtio-serial ports for stdout, stderr and the host's output acks, virtio-blk for the root image, binds and the status disk; a virtio-net device on a tap when the container has a network; no PCI)"

// probeMarker is what rtd-unikernel-init prints when booted with rtd.probe.
const probeMarker = "rtd-unikernel-init: probe ok"
