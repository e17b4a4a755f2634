package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/vm/wire"
)

// bareExitMark is what the bare guest's /init prints with /bin/true's status.
const bareExitMark = "RTD-BENCH-EXIT"

// bareInit is the bare guest's /init: the modules the driver's initramfs
// carries, the root filesystem from the EROFS disk, /bin/true in a chroot,
// power off. No agent, no container runtime.
const bareInit = `#!/bin/busybox sh
/bin/busybox mount -t devtmpfs dev /dev
for m in $(/bin/busybox cat /lib/modules/modules.order); do /bin/busybox insmod /lib/modules/$m || echo "insmod $m failed"; done
/bin/busybox mount -t erofs -o ro /dev/vda /mnt || echo "mount /dev/vda failed"
/bin/busybox chroot /mnt /bin/true
echo "` + bareExitMark + ` $?"
/bin/busybox poweroff -f
`

// vmBoot is what a bare boot needs: the QEMU command line the vm driver
// used for a container, and the kernel directory it booted from.
type vmBoot struct {
	qemu      string
	args      []string // without the binary
	initrd    string   // the driver's initramfs (agent), copied
	kernelDir string
}

// vm compares rtd run --rm --driver vm with a bare QEMU boot of the same
// kernel, machine and command line whose busybox /init runs /bin/true from
// the same root filesystem (as an EROFS disk, built per run as the driver
// builds one per container) and powers off.
func (e *env) vm(res *bench.Results) error {
	if _, err := os.Stat(filepath.Join(e.o.bin, "rtd-driver-vm")); err != nil {
		return skipf("%s/rtd-driver-vm not built", e.o.bin)
	}
	if err := e.ready("vm"); err != nil {
		return err
	}
	boot, err := e.vmCommandLine()
	if err != nil {
		return err
	}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		return err
	}
	cpio := filepath.Join(e.work, "bare.cpio")
	if err := writeBareInitramfs(cpio, bb, boot.kernelDir, bareInit); err != nil {
		return fmt.Errorf("bare initramfs: %w", err)
	}
	n := min(e.o.n, 11) // 2-3 s per sample under TCG, whose boot times vary
	p, err := bench.AB("vm: rtd run --rm --driver vm vs bare QEMU boot running /bin/true", "rtd run --rm --driver vm", "bare QEMU boot (busybox /init)", n,
		e.rtd("run", "--rm", "--driver", "vm", e.bundle),
		e.bareBoot(boot, cpio))
	if err != nil {
		return err
	}
	p.GoalRatio(1.15)
	p.Note = "same QEMU binary, machine, accelerator, memory, kernel and kernel command line as the driver's VM; " +
		"the bare side builds the EROFS image of the rootfs per run too"
	res.Pairs = append(res.Pairs, p)
	var ds []time.Duration
	probe := e.probeBoot(boot)
	for i := 0; i < min(n, 3); i++ {
		d, err := probe()
		if err != nil {
			return err
		}
		ds = append(ds, d)
	}
	res.Values = append(res.Values, bench.Value{Name: fmt.Sprintf("vm: QEMU boot of the driver's own initramfs to power-off (agent in probe mode, n=%d)", len(ds)),
		Value: round(bench.Median(ds)), Note: "the agent boots, mounts, loads the modules and powers off: no container"})
	return e.spans(res, "vm", e.bundle, min(n, 3))
}

// vmCommandLine creates a container through the vm driver and reads the
// command line of its QEMU (the container's pid), so that the bare boot
// uses exactly the driver's machine; it keeps a copy of the initramfs.
func (e *env) vmCommandLine() (*vmBoot, error) {
	var b *vmBoot
	err := e.withQEMU("vm", e.sleeper, func(argv []string) error {
		b = &vmBoot{qemu: argv[0], args: argv[1:]}
		for i := 0; i+1 < len(b.args); i++ {
			switch b.args[i] {
			case "-kernel":
				b.kernelDir = filepath.Dir(b.args[i+1])
			case "-initrd":
				b.initrd = filepath.Join(e.work, "agent-initramfs.cpio")
				if err := copyFile(b.args[i+1], b.initrd); err != nil {
					return err
				}
			}
		}
		if b.kernelDir == "" || b.initrd == "" {
			return fmt.Errorf("no -kernel or -initrd in the vm driver's QEMU command line: %q", b.args)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// withQEMU creates (does not start) a container of bundle through driver
// name, whose pid is its QEMU, and calls f with QEMU's command line while
// the container (and the files its argv names) exists; the container is
// deleted afterwards.
func (e *env) withQEMU(name, bundle string, f func(argv []string) error) error {
	p, err := e.launch(name)
	if err != nil {
		return err
	}
	defer p.Close()
	c := p.Client()
	id := e.id(name + "args")
	resp, err := c.Create(e.ctx, &driver.CreateRequest{ID: id, Bundle: bundle})
	if err != nil {
		return fmt.Errorf("%s driver: create: %w", name, err)
	}
	defer c.Delete(e.ctx, &driver.DeleteRequest{ID: id, Force: true})
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", resp.Pid))
	if err != nil {
		return fmt.Errorf("command line of the container's QEMU (pid %d): %w", resp.Pid, err)
	}
	argv := strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
	if len(argv) < 2 || !strings.Contains(filepath.Base(argv[0]), "qemu") {
		return fmt.Errorf("pid %d of the %s container is %q, not QEMU", resp.Pid, name, argv[0])
	}
	return f(argv)
}

// withoutDevices returns the driver's QEMU arguments with initrd and serial
// console replaced and without the agent's port and the container's disks;
// extraAppend is added to the kernel command line.
func (b *vmBoot) withoutDevices(initrd, console, extraAppend string) []string {
	var out []string
	for i := 0; i < len(b.args); i++ {
		a := b.args[i]
		next := ""
		if i+1 < len(b.args) {
			next = b.args[i+1]
		}
		switch {
		case a == "-initrd":
			out, i = append(out, a, initrd), i+1
		case a == "-serial":
			out, i = append(out, a, "file:"+console), i+1
		case a == "-append":
			out, i = append(out, a, strings.TrimSpace(next+" "+extraAppend)), i+1
		case a == "-chardev" || a == "-drive":
			i++
		case a == "-device" && (strings.HasPrefix(next, "virtio-serial") || strings.HasPrefix(next, "virtserialport") || strings.HasPrefix(next, "virtio-blk")):
			i++
		default:
			out = append(out, a)
		}
	}
	return out
}

// bareBoot is one bare sample: build the EROFS image of the rootfs, boot,
// run /bin/true, power off; the guest must report status 0.
func (e *env) bareBoot(b *vmBoot, cpio string) bench.Sample {
	return func() (time.Duration, error) {
		img := filepath.Join(e.work, "bare-rootfs.erofs")
		console := filepath.Join(e.work, "bare-console.log")
		defer os.Remove(img)
		defer os.Remove(console)
		start := time.Now()
		if out, err := exec.Command("mkfs.erofs", "--quiet", img, e.rootfs).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("mkfs.erofs: %v: %s", err, out)
		}
		args := append(b.withoutDevices(cpio, console, ""),
			"-drive", "file="+img+",if=none,id=benchdisk,format=raw,readonly=on",
			"-device", "virtio-blk-device,drive=benchdisk,serial=rootfs")
		if err := runQEMU(e.ctx, b.qemu, args); err != nil {
			return 0, err
		}
		d := time.Since(start)
		out, _ := os.ReadFile(console)
		if !bytes.Contains(out, []byte(bareExitMark+" 0")) {
			return 0, fmt.Errorf("bare guest did not report /bin/true's status 0; console: %s", lastLines(string(out), 5))
		}
		return d, nil
	}
}

// probeBoot is one boot of the driver's own initramfs in probe mode.
func (e *env) probeBoot(b *vmBoot) bench.Sample {
	return func() (time.Duration, error) {
		console := filepath.Join(e.work, "probe-console.log")
		defer os.Remove(console)
		start := time.Now()
		if err := runQEMU(e.ctx, b.qemu, b.withoutDevices(b.initrd, console, wire.ProbeArg)); err != nil {
			return 0, err
		}
		d := time.Since(start)
		if out, _ := os.ReadFile(console); !bytes.Contains(out, []byte(wire.ProbeOK)) {
			return 0, fmt.Errorf("agent probe boot did not report %s; console: %s", wire.ProbeOK, lastLines(string(out), 5))
		}
		return d, nil
	}
}

// runQEMU runs QEMU in its own process group until the guest powers off;
// after a minute the whole group is killed.
func runQEMU(ctx context.Context, qemu string, args []string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("qemu: no power-off within a minute")
	}
	if err != nil {
		return fmt.Errorf("qemu: %v: %s", err, lastLines(string(out), 5))
	}
	return nil
}

// writeBareInitramfs writes a newc cpio: busybox, init as /init, the
// device nodes a shell needs before devtmpfs, and the kernel directory's
// modules with their order.
func writeBareInitramfs(path, busybox, kernelDir, init string) error {
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return err
	}
	order, err := os.ReadFile(filepath.Join(kernelDir, "modules.order"))
	if err != nil {
		return err
	}
	var w cpioWriter
	for _, d := range []string{"dev", "proc", "sys", "mnt", "bin", "lib", "lib/modules"} {
		w.add(d, 0o040755, nil, 0, 0)
	}
	w.add("dev/console", 0o020600, nil, 5, 1)
	w.add("dev/null", 0o020666, nil, 1, 3)
	w.add("init", 0o100755, []byte(init), 0, 0)
	w.add("bin/busybox", 0o100755, bb, 0, 0)
	w.add("lib/modules/modules.order", 0o100644, order, 0, 0)
	sc := bufio.NewScanner(bytes.NewReader(order))
	for sc.Scan() {
		m := strings.TrimSpace(sc.Text())
		if m == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(kernelDir, "modules", m))
		if err != nil {
			return err
		}
		w.add("lib/modules/"+m, 0o100644, data, 0, 0)
	}
	w.add("TRAILER!!!", 0, nil, 0, 0)
	return os.WriteFile(path, w.buf.Bytes(), 0o600)
}

// cpioWriter builds a "newc" cpio archive in memory.
type cpioWriter struct {
	buf bytes.Buffer
	ino int
}

// add appends one entry (a directory, device node or file with data).
func (w *cpioWriter) add(name string, mode uint32, data []byte, major, minor int) {
	w.ino++
	nlink := 1
	if mode&0o170000 == 0o040000 {
		nlink = 2
	}
	fmt.Fprintf(&w.buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\x00",
		w.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, major, minor, len(name)+1, 0, name)
	w.pad()
	w.buf.Write(data)
	w.pad()
}

// pad aligns the archive to 4 bytes, as newc requires.
func (w *cpioWriter) pad() {
	for w.buf.Len()%4 != 0 {
		w.buf.WriteByte(0)
	}
}

// copyFile copies src to dst.
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o600)
}
