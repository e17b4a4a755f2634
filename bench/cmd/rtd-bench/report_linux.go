package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rtd-project/rtd/driver"
)

// rssKB reads VmRSS of a process.
func rssKB(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(line)[1])
			return n
		}
	}
	return 0
}

// monitorsUnder returns the pids of rtd-monitor processes of a state dir.
func monitorsUnder(state string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.TrimSpace(string(comm)) == "rtd-monitor" && strings.Contains(string(cmdline), state) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func medianInt(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	sort.Ints(xs)
	return xs[len(xs)/2]
}

// memory reads the RSS of a driver process and of the monitors with 1 and
// with 20 containers running.
func (e *env) memory(res *results) error {
	ctx := context.Background()
	state := filepath.Join(e.work, "memstate")
	c, err := driver.Launch(ctx, filepath.Join(e.o.bin, "rtd-driver-linux"), driver.LaunchOptions{
		Name: "linux", Env: []string{"RTD_DRIVER_STATE_DIR=" + state}, SocketDir: filepath.Join(e.work, "sock"),
	})
	if err != nil {
		return err
	}
	defer c.Close()
	sleeper := filepath.Join(e.work, "sleeper")
	counts := []int{1, 20}
	if e.o.smoke {
		counts = []int{1, 2}
	}
	started := 0
	for _, want := range counts {
		for ; started < want; started++ {
			id := fmt.Sprintf("mem%d", started)
			if _, err := c.Create(ctx, &driver.CreateRequest{ID: id, Bundle: sleeper}); err != nil {
				return err
			}
			defer c.Delete(context.Background(), &driver.DeleteRequest{ID: id, Force: true})
			if err := c.Start(ctx, id); err != nil {
				return err
			}
		}
		time.Sleep(200 * time.Millisecond)
		var rss []int
		for _, pid := range monitorsUnder(state) {
			rss = append(rss, rssKB(pid))
		}
		m := medianInt(rss)
		met := m > 0 && m <= 4096
		res.Values = append(res.Values,
			value{Name: fmt.Sprintf("RSS of one rtd-monitor (median, %d running)", want), Value: fmt.Sprintf("%.1f MB", float64(m)/1024), Goal: "<= 4 MB", Met: &met},
			value{Name: fmt.Sprintf("RSS of the linux driver process (%d running)", want), Value: fmt.Sprintf("%.1f MB", float64(rssKB(c.Pid()))/1024)})
	}
	return nil
}

func machine() map[string]string {
	m := map[string]string{"cores": strconv.Itoa(runtime.NumCPU()), "go": runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				m["cpu"] = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		m["kernel"] = strings.TrimSpace(string(out))
	}
	m["cgroup"] = "v1"
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		m["cgroup"] = "v2"
	} else if _, err := os.Stat("/sys/fs/cgroup/unified"); err == nil {
		m["cgroup"] = "v1 (hybrid)"
	}
	for name, args := range map[string][]string{"runc": {"--version"}, "runsc": {"--version"}, "qemu": {"--version"}} {
		bin := name
		if name == "qemu" {
			bin = "qemu-system-x86_64"
		}
		if out, err := exec.Command(bin, args...).Output(); err == nil {
			m[name] = strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0]
		}
	}
	m["date"] = time.Now().UTC().Format("2006-01-02 15:04 UTC")
	return m
}

func write(dir string, res *results) error {
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("# rtd benchmark results\n\nWritten by `make bench` (bench/cmd/rtd-bench). Medians of alternating A/B samples in one run; ratio = rtd / bare backend. How to read them: docs/performance.md.\n\n")
	b.WriteString("Machine:")
	keys := make([]string, 0, len(res.Machine))
	for k := range res.Machine {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s;", k, res.Machine[k])
	}
	b.WriteString("\n\n| comparison | A (rtd) | median A | B (bare) | median B | ratio A/B | goal | met | n |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range res.Pairs {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.2fx | %s | %s | %d |\n", p.Name, p.A, round(p.MedianA), p.B, round(p.MedianB), p.Ratio, p.Goal, yes(p.Met), p.N)
	}
	b.WriteString("\n| measure | value | goal | met |\n|---|---|---|---|\n")
	for _, v := range res.Values {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", v.Name, v.Value, v.Goal, yes(v.Met))
	}
	if len(res.Notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range res.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	fmt.Print(b.String())
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(b.String()), 0o644)
}

func round(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(100 * time.Nanosecond).String()
	}
	return d.Round(100 * time.Microsecond).String()
}

func yes(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "yes"
	}
	return "**no**"
}
