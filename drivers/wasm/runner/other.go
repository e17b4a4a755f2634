//go:build !linux

package runner

// Name is argv[0] of a runner.
const Name = "rtd-wasm-runner"

// IsRunner is false: runners exist on Linux only.
func IsRunner() bool { return false }

// Main is never reached off Linux.
func Main() int { return 1 }
