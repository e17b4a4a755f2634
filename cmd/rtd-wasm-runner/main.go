// Command rtd-wasm-runner runs one WebAssembly module for the wasm driver:
// the driver's monitors start it (when it sits next to rtd-driver-wasm) in
// place of re-executing the driver binary, which links the driver SDK.
// Build it without cgo (make build does): it drops capabilities from every
// thread, which Go refuses in a cgo binary.
package main

import (
	"fmt"
	"os"
	"runtime"

	"github.com/rtd-project/rtd/drivers/wasm/runner"
)

func main() {
	if runtime.GOOS != "linux" || !runner.IsRunner() {
		fmt.Fprintln(os.Stderr, "rtd-wasm-runner is started by rtd-driver-wasm's monitors, not by hand")
		os.Exit(2)
	}
	os.Exit(runner.Main())
}
