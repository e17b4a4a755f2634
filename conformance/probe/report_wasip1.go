//go:build wasip1

package probe

import "os"

// Collect gathers what WASI preview 1 lets a module see: its environment
// and working directory, and whether its root preopen is writable. The
// Linux fields (ids, capabilities, namespaces, mounts, rlimits, kernel)
// stay empty: a module has none of them.
func Collect() Report {
	r := Report{Pid: os.Getpid(), Env: os.Environ()}
	r.Cwd, _ = os.Getwd()
	r.RootRO = rootReadOnly()
	return r
}
