package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/testutil"
)

// podSize is the number of containers of the pod step.
const podSize = 3

// vmPod compares a pod of podSize containers on the vm driver (one VM)
// with podSize single-container VMs: the time until all run, and the
// memory (PSS of every process of the driver's state: monitors, QEMU,
// virtiofsd) once they do.
func (e *env) vmPod(res *bench.Results) error {
	if _, err := os.Stat(e.o.bin + "/rtd-driver-vm"); err != nil {
		return skipf("%s/rtd-driver-vm not built", e.o.bin)
	}
	if err := e.ready("vm"); err != nil {
		return err
	}
	state := e.rtdRoot + "/drivers/vmpod"
	p, err := e.launchAt("vm", state)
	if err != nil {
		return err
	}
	defer p.Close()
	c := p.Client()
	n := min(e.o.n, 5) // ~5-10 s per sample under TCG
	var podPSS, singlePSS []int
	pod := func() (time.Duration, error) {
		sb := e.id("pod")
		t0 := time.Now()
		if _, err := c.CreateSandbox(e.ctx, &driver.SandboxSpec{ID: sb, Hostname: sb}); err != nil {
			return 0, err
		}
		defer c.ShutdownSandbox(e.ctx, &driver.ShutdownSandboxRequest{ID: sb, Force: true})
		if _, err := c.StartSandbox(e.ctx, sb); err != nil {
			return 0, err
		}
		for i := 0; i < podSize; i++ {
			id := fmt.Sprintf("%s-c%d", sb, i)
			if _, err := c.Create(e.ctx, &driver.CreateRequest{ID: id, SandboxID: sb, Bundle: e.sleeper}); err != nil {
				return 0, err
			}
			if err := c.Start(e.ctx, id); err != nil {
				return 0, err
			}
		}
		d := time.Since(t0)
		podPSS = append(podPSS, pssUnder(state))
		return d, nil
	}
	singles := func() (time.Duration, error) {
		var ids []string
		defer func() {
			for _, id := range ids {
				_, _ = c.Delete(e.ctx, &driver.DeleteRequest{ID: id, Force: true})
			}
		}()
		t0 := time.Now()
		for i := 0; i < podSize; i++ {
			id := e.id("single")
			if _, err := c.Create(e.ctx, &driver.CreateRequest{ID: id, Bundle: e.sleeper}); err != nil {
				return 0, err
			}
			ids = append(ids, id)
			if err := c.Start(e.ctx, id); err != nil {
				return 0, err
			}
		}
		d := time.Since(t0)
		singlePSS = append(singlePSS, pssUnder(state))
		return d, nil
	}
	pr, err := bench.AB(fmt.Sprintf("vm: a pod of %d containers to running vs %d single-container VMs", podSize, podSize),
		fmt.Sprintf("pod: 1 VM, %d containers", podSize), fmt.Sprintf("%d VMs, 1 container each", podSize), n, pod, singles)
	if err != nil {
		return err
	}
	pr.Note = "sleep containers created and started one after the other, through the driver contract; the pod's include CreateSandbox+StartSandbox"
	res.Pairs = append(res.Pairs, pr)
	pm, sm := medianInt(podPSS), medianInt(singlePSS)
	ratio := 0.0
	if sm > 0 {
		ratio = float64(pm) / float64(sm)
	}
	res.Values = append(res.Values, bench.Value{
		Name:  fmt.Sprintf("vm: memory (PSS of monitors, QEMU, virtiofsd) of a running pod of %d vs %d single-container VMs", podSize, podSize),
		Value: fmt.Sprintf("%s vs %s (ratio %.2f)", mb(pm), mb(sm), ratio),
		Note:  "medians; PSS splits the kernel and initramfs pages the guests share",
	})
	return nil
}

// pssUnder sums the PSS (kB) of every process whose command line names
// dir.
func pssUnder(dir string) int {
	total := 0
	for _, pid := range testutil.Pids() {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(cmdline), dir) {
			total += readMemory(pid).pssKB
		}
	}
	return total
}
