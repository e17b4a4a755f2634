// Command rtd-bench measures rtd against the bare backends in one run and
// writes results.json and results.md (make bench; docs/performance.md).
//
//	rtd-bench [-n N] [-tasks N] [-smoke] [-run REGEX] [-bin DIR] [-out DIR]
//
// -smoke takes 2 samples of everything, starts 4 containers at once
// instead of 50 and runs 4 sequential tasks per side instead of 1000: it
// checks that the runner works (bench's go test runs it).
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
)

// options are rtd-bench's flags.
type options struct {
	n     int
	tasks int // sequential tasks per side in the wasm step's throughput
	smoke bool
	bin   string
	out   string
	run   *regexp.Regexp // steps to run; nil: all
}

func main() {
	var o options
	var run, echo, verbs, cpu string
	flag.IntVar(&o.n, "n", 15, "samples per A/B comparison (the vm comparison takes at most 11)")
	flag.IntVar(&o.tasks, "tasks", 1000, "sequential tasks per side in the wasm step's throughput (wasm vs linux); 0 skips it")
	flag.BoolVar(&o.smoke, "smoke", false, "2 samples each, 4 concurrent containers instead of 50: checks that the runner works")
	flag.StringVar(&o.bin, "bin", "bin", "directory with rtd, the drivers and lcrun")
	flag.StringVar(&o.out, "out", "bench", "directory for results.json and results.md")
	flag.StringVar(&run, "run", "", "run only the steps whose name matches this regular expression (linux, gvisor, vm, vmpod, kernels, unikernel, wasm, contract, memory, concurrent, containerd, shim, cripod, network, images)")
	flag.StringVar(&echo, "echo", "", "internal: serve a one-byte echo on this unix socket (the raw-socket side of the round trip)")
	flag.StringVar(&verbs, "verbs", "", "internal: run one container verb by verb through a runc-compatible CLI (JSON job) and print the nanoseconds")
	flag.StringVar(&cpu, "cpu", "", "internal: run a command K times as a child subreaper (JSON job) and print the CPU nanoseconds per run, every descendant included")
	flag.Parse()
	// The internal modes: the runner re-executed to serve one job.
	for _, m := range []struct {
		flag, arg string
		serve     func(string) error
	}{{"cpu", cpu, serveCPU}, {"verbs", verbs, serveVerbs}, {"echo", echo, serveEcho}} {
		if m.arg == "" {
			continue
		}
		if err := m.serve(m.arg); err != nil {
			fmt.Fprintf(os.Stderr, "rtd-bench -%s: %v\n", m.flag, err)
			os.Exit(1)
		}
		return
	}
	if run != "" {
		re, err := regexp.Compile(run)
		if err != nil {
			fmt.Fprintln(os.Stderr, "rtd-bench: -run:", err)
			os.Exit(2)
		}
		o.run = re
	}
	if o.smoke {
		o.n = 2
		o.tasks = min(o.tasks, 4)
	}
	if err := runAll(o); err != nil {
		fmt.Fprintln(os.Stderr, "rtd-bench:", err)
		os.Exit(1)
	}
}
