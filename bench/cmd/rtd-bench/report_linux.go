package main

import (
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

	"github.com/rtd-project/rtd/bench"
)

// machine describes the host the numbers were taken on.
func machine() map[string]string {
	m := map[string]string{
		"cores": strconv.Itoa(runtime.NumCPU()),
		"go":    runtime.Version(),
		"date":  time.Now().UTC().Format("2006-01-02 15:04 UTC"),
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		m["kernel"] = strings.TrimSpace(string(out))
	}
	m["cgroup"] = cgroupMode()
	for name, cmd := range map[string][]string{
		"runc":       {"runc", "--version"},
		"runsc":      {"runsc", "--version"},
		"qemu":       {"qemu-system-x86_64", "--version"},
		"containerd": {"containerd", "--version"},
		"rtd commit": {"git", "describe", "--always", "--dirty"},
	} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).Output(); err == nil {
			m[name] = strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0]
		}
	}
	return m
}

// cgroupMode says whether the host runs cgroup v2, v1, or v1 with a cgroup2
// mount beside it (hybrid).
func cgroupMode() string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "v2 (unified)"
	}
	if _, err := os.Stat("/sys/fs/cgroup/unified/cgroup.controllers"); err == nil {
		return "v1 (hybrid: cgroup2 at /sys/fs/cgroup/unified)"
	}
	return "v1"
}

// write stores results.json and results.md in dir and prints the table.
func write(dir string, res *bench.Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	md := markdown(res)
	fmt.Print(md)
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(md), 0o644)
}

// markdown renders the results as results.md.
func markdown(res *bench.Results) string {
	var b strings.Builder
	b.WriteString("# rtd benchmark results\n\n")
	b.WriteString("Written by `make bench` (bench/cmd/rtd-bench); how to read them: docs/performance.md. ")
	b.WriteString("Every comparison ran in one run of the runner, one warm-up of each side, then A and B alternated (ABBA); ")
	b.WriteString("times are medians, ratio = median A / median B (A is rtd).\n\n")
	b.WriteString("## Machine\n\n")
	keys := make([]string, 0, len(res.Machine))
	for k := range res.Machine {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "- %s: %s\n", k, res.Machine[k])
	}
	b.WriteString("\n## A/B comparisons\n\n| comparison | A | median A | B | median B | ratio A/B | goal | met | n |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range res.Pairs {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.2fx | %s | %s | %d |\n",
			cell(p.Name), cell(p.A), round(p.MedianA), cell(p.B), round(p.MedianB), p.Ratio, cell(p.Goal), yes(p.Met), p.N)
	}
	b.WriteString("\n## Single measures\n\n| measure | value | goal | met | note |\n|---|---|---|---|---|\n")
	for _, v := range res.Values {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(v.Name), cell(v.Value), cell(v.Goal), yes(v.Met), cell(v.Note))
	}
	list := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n## %s\n\n", title)
		for _, s := range items {
			fmt.Fprintf(&b, "- %s\n", strings.ReplaceAll(s, "\n", " "))
		}
	}
	list("Skipped (this host lacks what they need)", res.Skipped)
	list("Failed", res.Failed)
	return b.String()
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
}

// round formats a duration with a precision that suits its size.
func round(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(100 * time.Nanosecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

// yes renders a goal's Met field.
func yes(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "yes"
	}
	return "**no**"
}
