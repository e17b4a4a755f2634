package wasm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/monitor"
)

// Options configure a Driver.
type Options struct {
	// StateDir holds the driver's state; default /run/rtd/drivers/wasm.
	StateDir string
	Logger   hclog.Logger
	Version  string
}

// Driver runs WebAssembly modules on wazero, one runner process each.
type Driver struct {
	driver.Unimplemented // exec, terminal, resize, pause, stats, update, pids, events, checkpoint
	layout               monitor.Layout
	c                    *monitor.Containers
	log                  hclog.Logger
	version              string
	exe                  string
}

var _ driver.Driver = (*Driver)(nil)

// New returns a wasm driver.
func New(opts Options) *Driver {
	o := monitor.Options(opts)
	c := o.Containers("wasm")
	return &Driver{layout: c.Layout, c: c, log: o.Logger, version: o.Version, exe: c.Exe}
}

func (d *Driver) cacheDir() string { return filepath.Join(d.layout.Root, "cache") }

// wazeroVersion is the wazero module version linked into this binary.
func wazeroVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "github.com/tetratelabs/wazero" {
				return m.Version
			}
		}
	}
	return "unknown"
}

// Info describes the driver; health checks root and the state dir.
func (d *Driver) Info(ctx context.Context) (*driver.Info, error) {
	return &driver.Info{
		Name:            "wasm",
		Version:         d.version,
		ContractVersion: driver.ContractVersion,
		OS:              runtime.GOOS,
		Arch:            runtime.GOARCH,
		Isolation: driver.Isolation{
			Class:            driver.IsolationWasm,
			SharesHostKernel: true,
			GuestKernel:      "",
			SyscallFilter: "none at the host level: the module makes no syscalls itself; it reaches the host only through the " +
				"WASI preview 1 functions wazero implements, which the runner process (Go) turns into host syscalls",
			UserNamespaces: false,
			CapabilityModel: "WASI capabilities: the module reaches only its preopened directories (the root filesystem as /, " +
				"bind and tmpfs mounts), its stdio, clocks and random; no sockets, no processes, no signals. The runner process " +
				"holds no Linux capabilities (empty bounding set, no_new_privs)",
			Rootless: false,
			ResourceAccounting: "host cgroup per container (the runner process: module, wazero and compiled code); " +
				"linux.resources.memory.limit caps the module's linear memory, the cgroup gets it plus 128 MiB for the runtime",
			Platform: "wazero " + wazeroVersion() + " (compiler on amd64/arm64), WASI preview 1",
			KnownGaps: []string{
				"no namespaces: the runner is a host process sharing the host's pid, network and mount namespaces; the module cannot reach them through WASI, but a wazero bug would be a host-process bug",
				"signals do not reach the module (WASI has none): a signal whose default action ends a process ends the module as 128+N (SIGTERM 143, SIGKILL 137); SIGCHLD, SIGWINCH, SIGURG are ignored",
				"no exec, terminal, pause, stats, update, pids or checkpoint",
				"process.user, capabilities, rlimits, seccomp, hostname, namespaces and proc/sysfs/devpts mounts have no meaning in WASI and are not applied",
				"tmpfs mounts are private empty directories on the host (under the driver's state dir), not memory-backed",
				"WebAssembly components (WASI preview 2, wasi:http, Spin) are refused",
			},
		},
		Capabilities: driver.Capabilities{CloseIO: true},
		Health:       d.health(),
	}, nil
}

func (d *Driver) health() driver.Health {
	if os.Geteuid() != 0 {
		return driver.Health{Reason: "must run as root: the wasm driver creates a cgroup per container"}
	}
	for _, dir := range []string{d.layout.ContainersDir(), d.cacheDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return driver.Health{Reason: fmt.Sprintf("state dir %s is not writable: %v", d.layout.Root, err)}
		}
	}
	return driver.Health{Ready: true}
}
