package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/unikernel"
	"github.com/rtd-project/rtd/internal/testutil"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// unikernelLinux measures the unikernel driver's linux guest (rtd's kernel
// and init, /bin/true alone in the VM): against a bare QEMU boot of the same
// kernel and initrd (the added-milliseconds rule of the pvh pair), against
// the vm driver on the same workload (>= 2x faster), and the memory of a
// running one (monitor + QEMU) against a running vm container's.
func (e *env) unikernelLinux(res *bench.Results, linuxAdded time.Duration) error {
	annot := map[string]string{unikernel.AnnotType: base64.StdEncoding.EncodeToString([]byte(unikernel.GuestLinux))}
	bundle := filepath.Join(e.work, "uk-linux")
	spec := ocispec.Default(e.rootfs, []string{"/bin/true"})
	spec.Annotations = annot
	if err := writeBundle(bundle, spec); err != nil {
		return err
	}
	boot, err := e.unikernelCommandLine(bundle)
	if err != nil {
		return err
	}
	p, err := bench.AB("unikernel (linux guest): rtd run --rm --driver unikernel /bin/true vs bare QEMU boot of the same kernel and initrd",
		"rtd run --rm --driver unikernel (linux guest)", "bare QEMU, same kernel+initrd", min(e.o.n, 11),
		e.rtd("run", "--rm", "--driver", "unikernel", bundle), e.bareUnikernel(boot))
	if err != nil {
		return err
	}
	added := p.MedianA - p.MedianB
	p.Note = fmt.Sprintf("rtd adds %s; the bare side runs QEMU with the driver's own argv (rtd-unikernel-init, the same process.json) "+
		"and builds the rootfs's EROFS image per run as the driver does; its output acks are written in advance", round(added))
	res.Pairs = append(res.Pairs, p)
	v := bench.Value{Name: "unikernel (linux guest): rtd's added time over bare QEMU", Value: round(added)}
	if linuxAdded > 0 {
		v.Goal = fmt.Sprintf("<= the linux driver's added time over runc run (%s, same run)", round(linuxAdded))
		v.Met = bench.Met(added <= linuxAdded)
		v.Note = fmt.Sprintf("ratio %.2f of the linux driver's added time", float64(added)/float64(linuxAdded))
	}
	res.Values = append(res.Values, v)

	if _, err := os.Stat(filepath.Join(e.o.bin, "rtd-driver-vm")); err != nil {
		res.Skipped = append(res.Skipped, "unikernel vs vm: rtd-driver-vm not built")
		return nil
	}
	if err := e.ready("vm"); err != nil {
		res.Skipped = append(res.Skipped, "unikernel vs vm: "+err.Error())
		return nil
	}
	p, err = bench.AB("unikernel vs vm: rtd run --rm /bin/true, linux guest vs the vm driver", "rtd run --rm --driver unikernel (linux guest)",
		"rtd run --rm --driver vm", min(e.o.n, 11),
		e.rtd("run", "--rm", "--driver", "unikernel", bundle), e.rtd("run", "--rm", "--driver", "vm", e.bundle))
	if err != nil {
		return err
	}
	p.GoalFaster(2)
	p.Note = "same rootfs and program; the unikernel has no agent and no in-guest container runtime"
	res.Pairs = append(res.Pairs, p)
	return e.unikernelMemory(res, annot)
}

// ukBoot is the driver's QEMU command line for a linux-guest container.
type ukBoot struct {
	qemu string
	args []string // without the binary; the container dir replaced by dir
	dir  string   // the bare boot's copy of the container dir
}

// unikernelCommandLine creates (not starts) a linux-guest container and
// keeps its QEMU argv and initrd for the bare boot.
func (e *env) unikernelCommandLine(bundle string) (*ukBoot, error) {
	b := &ukBoot{dir: filepath.Join(e.work, "uk-bare")}
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		return nil, err
	}
	err := e.withQEMU("unikernel", bundle, func(argv []string) error {
		b.qemu = argv[0]
		cdir := ""
		for i := 1; i+1 < len(argv); i++ {
			if argv[i] == "-initrd" {
				cdir = filepath.Dir(argv[i+1])
				if err := copyFile(argv[i+1], filepath.Join(b.dir, "initrd")); err != nil {
					return err
				}
			}
		}
		if cdir == "" {
			return fmt.Errorf("no -initrd in the unikernel driver's QEMU command line: %q", argv)
		}
		for i := 1; i < len(argv); i++ {
			switch argv[i] {
			case "-S":
				continue
			case "-qmp":
				i++
				continue
			}
			b.args = append(b.args, strings.ReplaceAll(argv[i], cdir, b.dir))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// bareUnikernel is one bare boot: the rootfs's EROFS image, a zeroed
// status disk, QEMU with the driver's argv until the init ends the VM; the
// status disk must say the program exited 0.
func (e *env) bareUnikernel(b *ukBoot) bench.Sample {
	return func() (time.Duration, error) {
		img, status := filepath.Join(b.dir, "rootfs.img"), filepath.Join(b.dir, "status.img")
		os.Remove(img)
		start := time.Now()
		if out, err := exec.Command("mkfs.erofs", "--quiet", img, e.rootfs).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("mkfs.erofs: %v: %s", err, out)
		}
		if err := os.WriteFile(status, make([]byte, 4096), 0o600); err != nil {
			return 0, err
		}
		null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return 0, err
		}
		defer null.Close()
		ackR, ackW, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		defer ackR.Close()
		_, _ = ackW.Write([]byte{1, 1}) // stdout's and stderr's
		ackW.Close()
		cmd := exec.CommandContext(e.ctx, b.qemu, b.args...)
		cmd.Stdout, cmd.Stderr = null, null
		cmd.ExtraFiles = []*os.File{null, ackR} // fd 3: stderr port, fd 4: acks
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		err = cmd.Run()
		d := time.Since(start)
		// 1: isa-debug-exit with 0; 0: the init's fallback power-off
		// (the status disk has the program's status either way).
		if cmd.ProcessState == nil || (cmd.ProcessState.ExitCode() != 1 && cmd.ProcessState.ExitCode() != 0) {
			con, _ := os.ReadFile(filepath.Join(b.dir, "console.log"))
			st, _ := os.ReadFile(status)
			return 0, fmt.Errorf("bare unikernel boot: %v; status %q; args %q; console: %s", err, bytes.TrimRight(st[:min(len(st), 40)], "\x00"), b.args, lastLines(string(con), 40))
		}
		st, _ := os.ReadFile(status)
		if !bytes.HasPrefix(st, []byte("rtd-exit: 0\n")) {
			return 0, fmt.Errorf("bare unikernel boot: status disk %q, want rtd-exit: 0", bytes.TrimRight(st[:min(len(st), 40)], "\x00"))
		}
		return d, nil
	}
}

// unikernelMemory starts one long-running container on the unikernel
// driver (linux guest) and one on the vm driver, waits until each program
// printed, and reads the memory of each container's process tree: its
// monitor, QEMU and whatever else the driver runs per container.
func (e *env) unikernelMemory(res *bench.Results, annot map[string]string) error {
	type side struct {
		driver string
		annot  map[string]string
		rss    int
		pss    int
		monPSS int // the monitor's share
	}
	sides := []*side{{driver: "unikernel", annot: annot}, {driver: "vm"}}
	for _, s := range sides {
		state := filepath.Join(e.work, "ukmem-"+s.driver)
		p, err := e.launchAt(s.driver, state)
		if err != nil {
			return err
		}
		defer p.Close()
		bundle := filepath.Join(e.work, "ukmem-bundle-"+s.driver)
		spec := ocispec.Default(e.rootfs, []string{"/bin/sh", "-c", "echo up; exec /bin/sleep 1000"})
		spec.Annotations = s.annot
		if err := writeBundle(bundle, spec); err != nil {
			return err
		}
		out := filepath.Join(e.work, "ukmem-out-"+s.driver)
		c := p.Client()
		id := e.id("ukmem")
		resp, err := c.Create(e.ctx, &driver.CreateRequest{ID: id, Bundle: bundle, Stdio: driver.Stdio{Stdout: out}})
		if err != nil {
			return fmt.Errorf("%s: %w", s.driver, err)
		}
		defer c.Delete(e.ctx, &driver.DeleteRequest{ID: id, Force: true})
		if err := c.Start(e.ctx, id); err != nil {
			return fmt.Errorf("%s: %w", s.driver, err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if data, _ := os.ReadFile(out); bytes.Contains(data, []byte("up")) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: the program did not start within 2 minutes", s.driver)
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(time.Second) // let the guest settle
		// The container's process is its QEMU; its parent, the
		// container's monitor.
		mon := ppidOf(int(resp.Pid))
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", mon)); !strings.HasSuffix(strings.TrimSpace(string(comm)), "monitor") {
			return fmt.Errorf("%s: the parent of the container's process %d is %q (pid %d), not its monitor", s.driver, resp.Pid, bytes.TrimSpace(comm), mon)
		}
		s.monPSS = readMemory(mon).pssKB
		for _, pid := range treeOf(mon) {
			m := readMemory(pid)
			s.rss += m.rssKB
			s.pss += m.pssKB
		}
	}
	uk, vm := sides[0], sides[1]
	ratio := 0.0
	if vm.pss > 0 {
		ratio = float64(uk.pss) / float64(vm.pss)
	}
	res.Values = append(res.Values,
		bench.Value{Name: "unikernel (linux guest): monitor + QEMU memory per running container (PSS; RSS)",
			Value: fmt.Sprintf("%s; %s", mb(uk.pss), mb(uk.rss)),
			Note:  fmt.Sprintf("one container running sh -c 'echo up; exec sleep 1000', after it printed; the monitor's PSS %s, the rest is QEMU (guest RAM touched, TCG's code cache)", mb(uk.monPSS))},
		bench.Value{Name: "vm: monitor + QEMU memory per running container (PSS; RSS)",
			Value: fmt.Sprintf("%s; %s", mb(vm.pss), mb(vm.rss)),
			Note:  fmt.Sprintf("the same program; the monitor's PSS %s; the unikernel's total PSS is %.2fx the vm's", mb(vm.monPSS), ratio)})
	return nil
}

// ppidOf is pid's parent (0 if gone).
func ppidOf(pid int) int {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...: comm may hold blanks and parentheses.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// treeOf is pid and its descendants.
func treeOf(pid int) []int {
	children := map[int][]int{}
	for _, p := range testutil.Pids() {
		if pp := ppidOf(p); pp > 0 {
			children[pp] = append(children[pp], p)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}
