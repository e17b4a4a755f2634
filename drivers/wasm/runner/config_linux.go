package runner

import (
	"fmt"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Name is argv[0] of a runner: "rtd-wasm-runner PROCDIR", fd 3 the ready
// pipe, fd 4 the pipe the monitor writes one byte to once the runner is in
// its cgroup.
const Name = "rtd-wasm-runner"

// Files in a container dir.
const (
	File      = "runner.json" // Config
	StartFifo = "start"       // the runner waits on it for Start
)

// Report is what a runner says once the module is compiled and it waits
// for Start (Error empty), or why it cannot run it.
type Report struct {
	Error string `json:",omitempty"`
	Class string `json:",omitempty"`
}

// PageSize is the size of a WebAssembly memory page.
const PageSize = 64 << 10

// Overhead is added to a memory limit for the runner's cgroup: the
// limit itself caps the module's linear memory; the runner's own memory
// (Go runtime, wazero, the compiled code) comes on top.
const Overhead = 128 << 20

// Config is what a runner needs, written to runner.json in the
// container's dir at Create.
type Config struct {
	ID string
	// Module is the host path of the module; Guest its path in the guest.
	Module string
	Guest  string
	// Export is the function to call instead of _start ("" for _start).
	Export string
	Args   []string
	Env    []string
	// Preopens are the directories the module may reach, "/" first.
	Preopens []Preopen
	// MemoryPages caps the linear memory (0: wazero's default, 4 GiB).
	MemoryPages uint32
	// CacheDir holds wazero's compilation cache.
	CacheDir string
	// Cgroup is the runner's cgroup path; Resources its limits.
	Cgroup    string
	Resources *specs.LinuxResources `json:",omitempty"`
}

// Preopen is a host directory the module sees at Guest.
type Preopen struct {
	Host     string
	Guest    string
	ReadOnly bool `json:",omitempty"`
}

// invalidArgumentf and notImplementedf are errors of those errdefs classes
// (as the driver SDK's constructors, which the runner does not link).
func invalidArgumentf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errdefs.ErrInvalidArgument)
}

func notImplementedf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errdefs.ErrNotImplemented)
}
