package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/drivers/unikernel/pvhtest"
	"github.com/rtd-project/rtd/internal/vmm"
)

// unikernel compares rtd run --rm --driver unikernel of rtd's test
// unikernel (a PVH ELF that prints its command line and exits through
// isa-debug-exit) with a bare QEMU process booting the same ELF on the same
// machine: the framework's cost over the VMM, with nothing in the guest to
// wait for.
func (e *env) unikernel(res *bench.Results) error {
	if _, err := os.Stat(filepath.Join(e.o.bin, "rtd-driver-unikernel")); err != nil {
		return skipf("%s/rtd-driver-unikernel not built", e.o.bin)
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		return skipf("gcc not installed (it builds the test unikernel)")
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return skipf("qemu-system-x86_64 not installed")
	}
	if err := e.ready("unikernel"); err != nil {
		return err
	}
	dir := filepath.Join(e.work, "unikernel")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	elf, err := pvhtest.Build(dir)
	if err != nil {
		return err
	}
	bundle := filepath.Join(dir, "bundle")
	if err := pvhtest.Bundle(bundle, elf, "exit=0"); err != nil {
		return err
	}
	// The driver's machine for a pvh guest (plan_linux.go), minus QMP and
	// the pause: QEMU boots the ELF, which exits at once.
	args := vmm.Machine{
		Accel: "tcg", MemoryMiB: 32, CPUs: 1, Kernel: elf, Append: "exit=0",
		Serial: []string{"stdio"}, DebugExit: true,
	}.Args()
	p, err := bench.AB("unikernel: rtd run --rm --driver unikernel vs bare QEMU booting the same PVH unikernel",
		"rtd run --rm --driver unikernel", "bare qemu-system-x86_64 -kernel unikernel", e.o.n,
		e.rtd("run", "--rm", "--driver", "unikernel", bundle),
		bareQEMU(qemu, args))
	if err != nil {
		return err
	}
	added := p.MedianA - p.MedianB
	p.Note = fmt.Sprintf("rtd adds %s over the VMM; same QEMU, machine, accelerator (tcg), memory and guest command line", round(added))
	res.Pairs = append(res.Pairs, p)
	v := bench.Value{Name: "unikernel: rtd's added time over bare QEMU", Value: round(added)}
	var linuxAdded time.Duration
	for _, q := range res.Pairs {
		if q.Name == "linux: rtd run --rm vs runc run" {
			linuxAdded = q.MedianA - q.MedianB
			v.Goal = fmt.Sprintf("<= the linux driver's added time over runc run (%s, same run)", round(linuxAdded))
			v.Met = bench.Met(added <= linuxAdded)
			v.Note = fmt.Sprintf("ratio %.2f of the linux driver's added time", float64(added)/float64(linuxAdded))
		}
	}
	if v.Goal == "" {
		v.Note = "the linux step did not run: no comparison with the linux driver's added time"
	}
	res.Values = append(res.Values, v)
	if err := e.spans(res, "unikernel", bundle, min(e.o.n, 5)); err != nil {
		return err
	}
	return e.unikernelLinux(res, linuxAdded)
}

// bareQEMU runs QEMU to the guest's isa-debug-exit: status 1 is the guest's
// exit code 0, anything else is an error.
func bareQEMU(qemu string, args []string) bench.Sample {
	return func() (time.Duration, error) {
		cmd := exec.Command(qemu, args...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 {
			return d, nil
		}
		return 0, fmt.Errorf("qemu %s: %v: %s", strings.Join(args, " "), err, lastLines(string(out), 5))
	}
}
