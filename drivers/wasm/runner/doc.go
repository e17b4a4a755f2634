// Package runner is the process that runs one WebAssembly module for the
// wasm driver: it drops every capability, waits until its monitor has put it
// into its cgroup, compiles the module through wazero's compilation cache,
// reports ready and runs the module on Start. It links wazero and the
// monitor's small proc package but not the driver SDK (gRPC, go-plugin), so
// cmd/rtd-wasm-runner starts in about half the time of the driver binary.
package runner
