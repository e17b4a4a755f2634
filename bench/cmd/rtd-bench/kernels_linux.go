package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/internal/vmm"
)

// initMark is what the kernels step's /init prints once it runs.
const initMark = "RTD-BENCH-INIT"

// kernelsInit is the /init of the kernels step: load the kernel's modules
// (the virtio, EROFS and overlay modules the agent loads; none for rtd's
// built kernel) and power off.
const kernelsInit = `#!/bin/busybox sh
for m in $(/bin/busybox cat /lib/modules/modules.order); do /bin/busybox insmod /lib/modules/$m || echo "insmod $m failed"; done
echo "` + initMark + `"
/bin/busybox poweroff -f
`

// kernels compares the two guest kernels the vm and unikernel drivers can
// boot, on the driver's machine (microvm, the same command line, TCG unless
// RTD_VM_ACCEL says kvm): rtd's built kernel (hack/guest-kernel.sh) and
// Debian's cloud kernel (hack/vm-kernel.sh). One sample is QEMU's whole
// life: boot to /init, the modules the guest needs loaded, power-off.
func (e *env) kernels(res *bench.Results) error {
	qemu, bb, built, debian, err := e.kernelsInputs()
	if err != nil {
		return err
	}
	accel := "tcg"
	if os.Getenv("RTD_VM_ACCEL") == "kvm" {
		accel = "kvm"
	}
	tsc := vmm.HostTSCKHz()
	boot := func(k *vmm.Kernel) (bench.Sample, error) {
		cpio := filepath.Join(e.work, "kernels-"+k.Release+".cpio")
		if err := writeBareInitramfs(cpio, bb, k.Dir, kernelsInit); err != nil {
			return nil, err
		}
		console := filepath.Join(e.work, "kernels-"+k.Release+".log")
		args := vmm.Machine{
			Accel: accel, MemoryMiB: 512, CPUs: 1, Kernel: k.Vmlinux, Initrd: cpio,
			Serial: []string{"file:" + console},
			Append: strings.Join(append(vmm.LinuxCmdline(accel, tsc), "rdinit=/init"), " "),
		}.Args()
		return func() (time.Duration, error) {
			defer os.Remove(console)
			start := time.Now()
			if err := runQEMU(e.ctx, qemu, args); err != nil {
				return 0, err
			}
			d := time.Since(start)
			if out, _ := os.ReadFile(console); !bytes.Contains(out, []byte(initMark)) {
				return 0, fmt.Errorf("kernel %s: /init did not run; console: %s", k.Release, lastLines(string(out), 5))
			}
			return d, nil
		}, nil
	}
	a, err := boot(built)
	if err != nil {
		return err
	}
	b, err := boot(debian)
	if err != nil {
		return err
	}
	p, err := bench.AB("kernels: QEMU boot to /init and power-off, rtd's built guest kernel vs Debian's cloud kernel",
		"built "+built.Release, "Debian "+debian.Release+" (+"+fmt.Sprint(len(debian.Modules))+" modules)", min(e.o.n, 11), a, b)
	if err != nil {
		return err
	}
	p.Note = fmt.Sprintf("same QEMU, microvm machine, %s, 512 MiB and command line; /init loads the modules the agent needs (none for the built kernel) and powers off", accel)
	res.Pairs = append(res.Pairs, p)
	goal := 400 * time.Millisecond
	res.Values = append(res.Values, bench.Value{Name: "kernels: built kernel, QEMU start to /init and power-off (" + accel + ")",
		Value: round(p.MedianA), Goal: "< " + round(goal) + " (TCG)", Met: bench.Met(p.MedianA < goal)})
	for _, k := range []*vmm.Kernel{built, debian} {
		st, err := os.Stat(k.Vmlinux)
		if err != nil {
			return err
		}
		v := bench.Value{Name: "kernels: vmlinux size, " + k.Describe(), Value: fmt.Sprintf("%.1f MB", float64(st.Size())/1e6)}
		if k == built {
			v.Goal, v.Met = "<= 10 MB", bench.Met(st.Size() <= 10e6)
		}
		res.Values = append(res.Values, v)
	}
	return e.kernelsVM(res, bb)
}

// kernelsVM times rtd run --rm --driver vm of /bin/true on the built kernel
// against the same on Debian's kernel, and against a bare QEMU boot of the
// built kernel running /bin/true from the same root filesystem (the vm
// step's comparison, with the kernel chosen by RTD_GUEST_KERNEL).
func (e *env) kernelsVM(res *bench.Results, busybox string) error {
	if _, err := os.Stat(filepath.Join(e.o.bin, "rtd-driver-vm")); err != nil {
		return skipf("%s/rtd-driver-vm not built", e.o.bin)
	}
	withKernel := func(which string) bench.Sample {
		return timedEnv([]string{vmm.GuestKernelEnv + "=" + which}, filepath.Join(e.o.bin, "rtd"),
			"--root", e.rtdRoot, "run", "--rm", "--driver", "vm", e.bundle)
	}
	n := min(e.o.n, 11)
	p, err := bench.AB("kernels: rtd run --rm --driver vm of /bin/true, rtd's built guest kernel vs Debian's cloud kernel",
		"built kernel ("+vmm.GuestKernelEnv+"=built)", "Debian kernel", n, withKernel("built"), withKernel("debian"))
	if err != nil {
		return err
	}
	p.Note = "the same driver, agent and bundle; only the guest kernel differs (and Debian's needs its modules in the initramfs)"
	res.Pairs = append(res.Pairs, p)

	// The driver's own QEMU command line on the built kernel: the driver
	// (and its monitor) take the kernel from the environment.
	prev, had := os.LookupEnv(vmm.GuestKernelEnv)
	os.Setenv(vmm.GuestKernelEnv, "built")
	boot, err := e.vmCommandLine()
	if had {
		os.Setenv(vmm.GuestKernelEnv, prev)
	} else {
		os.Unsetenv(vmm.GuestKernelEnv)
	}
	if err != nil {
		return err
	}
	cpio := filepath.Join(e.work, "kernels-bare.cpio")
	if err := writeBareInitramfs(cpio, busybox, boot.kernelDir, bareInit); err != nil {
		return fmt.Errorf("bare initramfs: %w", err)
	}
	p, err = bench.AB("kernels: rtd run --rm --driver vm vs bare QEMU boot running /bin/true, both on rtd's built kernel",
		"rtd run --rm --driver vm (built kernel)", "bare QEMU boot (built kernel, busybox /init)", n,
		withKernel("built"), e.bareBoot(boot, cpio))
	if err != nil {
		return err
	}
	p.GoalRatio(1.2)
	p.Note = "same QEMU, machine, accelerator, memory, kernel and command line as the driver's VM; the bare side builds the EROFS image of the rootfs per run too"
	res.Pairs = append(res.Pairs, p)
	goal := 1200 * time.Millisecond
	res.Values = append(res.Values, bench.Value{Name: "kernels: rtd run --rm --driver vm of /bin/true on the built kernel",
		Value: round(p.MedianA), Goal: "< " + round(goal) + " (TCG)", Met: bench.Met(p.MedianA < goal)})
	return nil
}

// kernelsInputs finds what the kernels step needs: QEMU, busybox, the
// built kernel and Debian's; a missing one is a skip naming what to run.
func (e *env) kernelsInputs() (qemu, bb string, built, debian *vmm.Kernel, err error) {
	if qemu, err = exec.LookPath("qemu-system-x86_64"); err != nil {
		return "", "", nil, nil, skipf("qemu-system-x86_64 not installed")
	}
	if bb, err = exec.LookPath("busybox"); err != nil {
		return "", "", nil, nil, skipf("busybox not installed")
	}
	if e.o.smoke {
		// make test's smoke run: the vm step already boots the drivers'
		// default kernel (rtd's built one); comparing it with Debian's
		// adds boots the gate does not need.
		return "", "", nil, nil, skipf("smoke run: the kernel comparison runs in make bench")
	}
	if built, err = vmm.LoadKernel(vmm.BuiltKernelDir, "RTD_VM_KERNEL_DIR"); err != nil {
		return "", "", nil, nil, skipf("no built guest kernel: run hack/guest-kernel.sh (make guest-kernel)")
	}
	if debian, err = vmm.LoadKernel(vmm.DefaultKernelDir, "RTD_VM_KERNEL_DIR"); err != nil {
		return "", "", nil, nil, skipf("no Debian cloud kernel: run hack/vm-kernel.sh")
	}
	return qemu, bb, built, debian, nil
}
