// Command rtd-probe is the conformance suite's workload as a standalone
// static binary, for driver authors who run the suite from their own tests.
package main

import (
	"os"

	"github.com/rtd-project/rtd/conformance/probe"
)

func main() { os.Exit(probe.Main(os.Args[1:])) }
