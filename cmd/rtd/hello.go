package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
)

// hello is the program of the embedded "hello" image: a greeting and what
// it sees of its isolation.
func hello(w io.Writer) int {
	host, err := os.Hostname()
	if err != nil {
		host = "(unknown: " + err.Error() + ")"
	}
	pid1 := "no (pid " + strconv.Itoa(os.Getpid()) + ")"
	if os.Getpid() == 1 {
		pid1 = "yes: a pid namespace of its own"
	}
	procs := "(no /proc)"
	if n, err := countProcesses(); err == nil {
		procs = strconv.Itoa(n)
	}
	fmt.Fprintf(w, `Hello from rtd!

This message comes from the "hello" image: the rtd binary itself, bind-mounted
read-only as /hello into an empty root filesystem and run by an rtd driver.

What it sees of its isolation:
  kernel release:      %s
  pid 1:               %s
  hostname:            %s
  uid:                 %d
  processes in /proc:  %s
`, kernelRelease(), pid1, host, os.Getuid(), procs)
	return 0
}

// countProcesses counts the numeric entries of /proc.
func countProcesses() (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			n++
		}
	}
	return n, nil
}
