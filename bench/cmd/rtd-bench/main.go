// Command rtd-bench measures rtd against the bare backends in one run and
// writes bench/results.json and bench/results.md (make bench).
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	var o options
	flag.IntVar(&o.n, "n", 15, "samples per A/B comparison")
	flag.BoolVar(&o.smoke, "smoke", false, "2 samples each, no 50-container run: checks the runner works")
	flag.StringVar(&o.bin, "bin", "bin", "directory with rtd, the drivers and lcrun")
	flag.StringVar(&o.out, "out", "bench", "directory for results.json and results.md")
	flag.Parse()
	if o.smoke {
		o.n = 2
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "rtd-bench:", err)
		os.Exit(1)
	}
}
