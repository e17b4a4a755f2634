// Command rtd-driver-wasm is the rtd driver plugin for WebAssembly modules
// (wazero, WASI preview 1). It also re-executes itself as the per-container
// monitors and as the runners that execute the modules.
package main

import (
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/wasm"
)

func main() {
	wasm.Reexec()
	logger := driver.NewLogger("wasm")
	driver.Serve(wasm.New(wasm.Options{StateDir: driver.StateDir(), Logger: logger}), logger)
}
