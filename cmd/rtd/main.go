// Command rtd is the rtd CLI: it runs containers through runtime driver
// plugins (docker-like commands: run, ps, exec, logs, kill, rm, wait,
// drivers). Started under the name "hello" (the embedded default image),
// it runs the hello program instead; under the name "probe", the
// conformance suite's probe.
package main

import (
	"os"
	"path/filepath"

	"github.com/rtd-project/rtd/conformance/probe"
	"github.com/rtd-project/rtd/core"
	_ "github.com/rtd-project/rtd/internal/oneproc" // one P from before gRPC's init
)

func main() {
	switch filepath.Base(os.Args[0]) {
	case "hello":
		os.Exit(hello(os.Stdout))
	case core.InitName: // run --init mounts rtd as the container's init
		os.Exit(runInit(os.Args[1:]))
	case "probe": // the conformance suite's workload (rtd conformance copies rtd as /probe)
		os.Exit(probe.Main(os.Args[1:]))
	}
	os.Exit(execute(os.Args[1:]))
}
