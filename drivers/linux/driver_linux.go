package linux

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/hashicorp/go-hclog"
	"github.com/opencontainers/cgroups"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/events"
	"github.com/rtd-project/rtd/kit/monitor"
)

// Options configure a Driver.
type Options struct {
	// StateDir holds the driver's container state; default /run/rtd/drivers/linux.
	StateDir string
	Logger   hclog.Logger
	// Version is reported by Info.
	Version string
}

// Driver runs containers with libcontainer. It keeps no container state in
// memory: everything lives in the state directory and in the monitors.
type Driver struct {
	driver.Unimplemented // checkpoint, restore
	layout               monitor.Layout
	c                    *monitor.Containers
	events               *events.Journal
	log                  hclog.Logger
	version              string
	exe                  string // the monitor's binary (monitorBinary)
}

// MonitorBinary is the file name of the linux driver's monitor start half
// (cmd/rtd-linux-monitor), looked for next to the driver binary.
const MonitorBinary = "rtd-linux-monitor"

// monitorBinary returns the binary a monitor is started from:
// rtd-linux-monitor next to the driver binary exe, or exe itself (it is a
// monitor too, only larger and slower to start).
func monitorBinary(exe string) string {
	p := filepath.Join(filepath.Dir(exe), MonitorBinary)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return p
	}
	return exe
}

var (
	_ driver.Driver        = (*Driver)(nil)
	_ driver.EventReplayer = (*Driver)(nil)
)

// New returns a linux driver.
func New(opts Options) *Driver {
	o := monitor.Options(opts)
	c := o.Containers("linux")
	c.Exe = monitorBinary(c.Exe)
	// The monitor's start half, libcontainer's init (libcontainer passes
	// GOMAXPROCS on) and rtd-monitor: one P each (SpawnOptions.Procs).
	c.Spawn.Procs = 1
	j := events.New(o.StateDir, o.Logger)
	c.LockProc = j.Lock
	return &Driver{
		layout: c.Layout, c: c, events: j,
		log: o.Logger, version: o.Version, exe: c.Exe,
	}
}

// Info describes the driver and probes the host.
func (d *Driver) Info(ctx context.Context) (*driver.Info, error) {
	cgroupMode := "cgroup v1"
	if cgroups.IsCgroup2UnifiedMode() {
		cgroupMode = "cgroup v2"
	} else if cgroups.IsCgroup2HybridMode() {
		cgroupMode = "cgroup v1 (hybrid, cgroup2 at /sys/fs/cgroup/unified)"
	}
	return &driver.Info{
		Name:            "linux",
		Version:         d.version,
		ContractVersion: driver.ContractVersion,
		OS:              runtime.GOOS,
		Arch:            runtime.GOARCH,
		Isolation: driver.Isolation{
			Class:              "process",
			SharesHostKernel:   true,
			SyscallFilter:      seccompDescription,
			UserNamespaces:     true,
			CapabilityModel:    "bounding/effective/permitted/inheritable/ambient sets from the OCI spec; rtd's default spec keeps docker's 14 default capabilities",
			Rootless:           false,
			ResourceAccounting: "host " + cgroupMode,
			Platform:           "libcontainer (runc v1.5), " + cgroupMode,
			KnownGaps: []string{
				"shares the host kernel: a kernel exploit escapes the container",
				"no network setup beyond an empty network namespace with loopback",
				"rootfs mounts in Create are not supported (use a bundle with a root directory)",
				"checkpoint/restore not supported (criu)",
			},
		},
		Capabilities: driver.Capabilities{
			Exec: true, Terminal: true, ResizePty: true, CloseIO: true, Pause: true,
			Stats: true, Update: true, Pids: true, Events: true,
			StatsFields:      []string{"cpu", "memory", "pids"},
			NetworkNamespace: true,
			Sandboxes:        true,
		},
		Health: d.health(),
	}, nil
}

// health probes what the driver needs on this host, with a reason a person
// can act on.
func (d *Driver) health() driver.Health {
	if os.Geteuid() != 0 {
		return driver.Health{Reason: "must run as root: rootless containers are not supported by the linux driver"}
	}
	if _, err := os.Stat("/sys/fs/cgroup"); err != nil {
		return driver.Health{Reason: "no cgroup filesystem at /sys/fs/cgroup: mount cgroup v1 controllers or cgroup2"}
	}
	if !cgroups.IsCgroup2UnifiedMode() {
		for _, c := range []string{"memory", "pids", "cpu", "freezer"} {
			if _, err := os.Stat("/sys/fs/cgroup/" + c); err != nil {
				return driver.Health{Reason: fmt.Sprintf("cgroup v1 controller %q is not mounted at /sys/fs/cgroup/%s", c, c)}
			}
		}
	}
	if err := os.MkdirAll(d.layout.ContainersDir(), 0o700); err != nil {
		return driver.Health{Reason: fmt.Sprintf("state dir %s is not writable: %v", d.layout.Root, err)}
	}
	if _, err := os.Stat(d.exe); err != nil {
		return driver.Health{Reason: fmt.Sprintf("driver binary %s is not readable for re-exec: %v", d.exe, err)}
	}
	return driver.Health{Ready: true}
}

// Events streams the driver's event journal (package events) from now on.
func (d *Driver) Events(ctx context.Context, fn func(*driver.Event) error) error {
	return d.events.Stream(ctx, nil, fn)
}

// EventsFrom replays the event journal from req's cursor, then streams it.
func (d *Driver) EventsFrom(ctx context.Context, req *driver.EventsRequest, fn func(*driver.Event) error) error {
	return d.events.Stream(ctx, req, fn)
}
