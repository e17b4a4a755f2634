package wasm

import "github.com/rtd-project/rtd/driver"

// placeholderInfo is what the placeholder driver built on an OS other than
// Linux (unsupported.go) says about the wasm driver: its name and the
// isolation it gives on Linux (WebAssembly modules on wazero), in full, so that a reviewer can
// compare drivers on any host. It has no build constraint, so that
// placeholder_test.go checks it on Linux too.
func placeholderInfo(version string) driver.Info {
	return driver.Info{Name: "wasm", Version: version, Isolation: driver.Isolation{
		Class:              driver.IsolationWasm,
		SharesHostKernel:   true,
		SyscallFilter:      "none at the host level: the module reaches the host only through the WASI preview 1 functions wazero implements",
		CapabilityModel:    "WASI capabilities: preopened directories, stdio, clocks and random; the runner process holds no Linux capabilities",
		ResourceAccounting: "host cgroup per container (the runner process)",
		Platform:           "wazero, WASI preview 1",
	}}
}
