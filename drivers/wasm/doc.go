// Package wasm is the rtd driver for WebAssembly: a container whose
// process.args[0] names a WebAssembly core module in its root filesystem
// (runwasi's rule) runs that module on wazero (github.com/tetratelabs/wazero,
// pure Go) with WASI preview 1.
//
// Each container has a monitor (kit/monitor), as on the other Linux
// drivers: it holds the stdio, is the subreaper and writes the exit status,
// so containers outlive the driver process. The monitor's workload is a
// runner process (this binary again) in the container's own cgroup, without
// capabilities and with no_new_privs, that compiles the module (through a
// compilation cache under the driver's state dir), waits for Start and runs
// it. The runner's exit status is the module's: proc_exit's code, 134 on a
// trap, 128+N when signal N ended it.
package wasm
