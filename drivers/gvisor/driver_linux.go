package gvisor

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/events"
	"github.com/rtd-project/rtd/kit/monitor"
	"github.com/rtd-project/rtd/kit/ocicli"
)

// guestRelease is the kernel release gVisor's Sentry reports to workloads.
const guestRelease = "4.4.0"

// Options configure a Driver.
type Options struct {
	// StateDir holds the driver's state; default /run/rtd/drivers/gvisor.
	StateDir string
	Logger   hclog.Logger
	Version  string
	// Runsc is the runsc binary; default $RTD_RUNSC, else the first runsc in
	// PATH (so a newer one in /usr/local/bin wins over Debian's).
	Runsc string
	// Platform is runsc's --platform; default $RTD_GVISOR_PLATFORM, else
	// ptrace (the only one that works with Debian's 2022 runsc here).
	Platform string
}

// Driver runs containers in runsc sandboxes.
type Driver struct {
	driver.Unimplemented // stats, update, checkpoint, restore
	layout               monitor.Layout
	c                    *monitor.Containers
	events               *events.Journal
	log                  hclog.Logger
	version              string
	exe                  string
	cfg                  runscConfig
}

var (
	_ driver.Driver        = (*Driver)(nil)
	_ driver.EventReplayer = (*Driver)(nil)
)

// runscConfig is how every runsc call is made; monitors get it in their
// request so they call the same binary the same way.
type runscConfig struct {
	Binary   string
	Root     string
	LogDir   string
	Platform string
	// Network is runsc's --network: "" (none), or "host" for a container
	// that joins the network namespace its spec names (forBundle).
	Network string `json:",omitempty"`
	// Sandbox is the runsc id of the sandbox a sub-container is created in
	// (sandbox_linux.go); "" for a container in a sandbox of its own.
	Sandbox string `json:",omitempty"`
}

func (c runscConfig) runtime() *ocicli.Runtime {
	return &ocicli.Runtime{
		Name: "runsc", Binary: c.Binary, Root: c.Root, LogDir: c.LogDir,
		GlobalArgs: []string{"--platform=" + c.Platform, "--network=" + c.network(), "--oci-seccomp"},
	}
}

// New returns a gvisor driver.
func New(opts Options) *Driver {
	o := monitor.Options{StateDir: opts.StateDir, Logger: opts.Logger, Version: opts.Version}
	c := o.Containers("gvisor")
	if opts.Runsc == "" {
		opts.Runsc = os.Getenv("RTD_RUNSC")
	}
	if opts.Runsc == "" {
		opts.Runsc = "runsc"
	}
	if path, err := exec.LookPath(opts.Runsc); err == nil {
		opts.Runsc = path
	}
	if opts.Platform == "" {
		opts.Platform = os.Getenv("RTD_GVISOR_PLATFORM")
	}
	if opts.Platform == "" {
		opts.Platform = "ptrace"
	}
	j := events.New(o.StateDir, o.Logger)
	c.LockProc = j.Lock
	return &Driver{
		layout: c.Layout, c: c, events: j, log: o.Logger, version: o.Version, exe: c.Exe,
		cfg: runscConfig{
			Binary: opts.Runsc, Root: filepath.Join(o.StateDir, "runsc"),
			LogDir: filepath.Join(o.StateDir, "logs"), Platform: opts.Platform,
		},
	}
}

// Info describes the driver and probes runsc.
func (d *Driver) Info(ctx context.Context) (*driver.Info, error) {
	version, health := d.health(ctx)
	return &driver.Info{
		Name:            "gvisor",
		Version:         d.version,
		ContractVersion: driver.ContractVersion,
		OS:              runtime.GOOS,
		Arch:            runtime.GOARCH,
		Isolation: driver.Isolation{
			Class:            driver.IsolationSandbox,
			SharesHostKernel: false,
			GuestKernel:      "gVisor Sentry, user-space kernel reporting Linux " + guestRelease + " (" + version + ")",
			SyscallFilter: "Sentry serves every syscall; the Sentry itself runs under a host seccomp filter; " +
				"a seccomp profile in the spec is enforced inside the sandbox (--oci-seccomp): rtd run's default, docker's profile, applies there",
			UserNamespaces:     false,
			CapabilityModel:    "capabilities from the OCI spec, checked by the Sentry against its own kernel objects",
			Rootless:           false,
			ResourceAccounting: "host cgroup of the whole sandbox (Sentry and gofer included)",
			Platform:           "runsc --platform=" + d.cfg.Platform + " --network=none|host --oci-seccomp",
			KnownGaps: []string{
				"networking only in a network namespace the spec names, through the host kernel's stack in that namespace (--network=host: Debian's runsc refuses its own netstack on this kernel); otherwise none",
				"memory limits apply to the whole sandbox (Sentry included); pids limits are refused, since they would count the Sentry's threads",
				"CAP_NET_RAW is always dropped (gVisor's default), whatever the spec asks",
				"a process exiting with code 129-192 is reported as killed by signal code-128: the sandbox reports both the same way",
				"runsc cannot signal a created, not started container: only SIGKILL (the sandbox) is supported then",
				"no stats, update or checkpoint through rtd yet",
				"in a sandbox (pod): a container cannot be paused alone (runsc pauses whole sandboxes), no sandbox metrics",
			},
		},
		Capabilities: driver.Capabilities{
			Exec: true, Terminal: true, ResizePty: true, CloseIO: true, Pause: true, Pids: true, Events: true,
			NetworkNamespace: true, Sandboxes: true,
		},
		Health: health,
	}, nil
}

// health checks root and a runnable runsc, and returns its version.
func (d *Driver) health(ctx context.Context) (string, driver.Health) {
	if os.Geteuid() != 0 {
		return "", driver.Health{Reason: "must run as root: runsc needs root to create sandboxes"}
	}
	if _, err := os.Stat(d.cfg.Binary); err != nil {
		return "", driver.Health{Reason: fmt.Sprintf("runsc not found (%s): install Debian's runsc package (make deps) or set RTD_RUNSC", d.cfg.Binary)}
	}
	version, err := d.cfg.runtime().Version(ctx)
	if err != nil {
		return "", driver.Health{Reason: fmt.Sprintf("%s does not run: %v", d.cfg.Binary, err)}
	}
	if err := os.MkdirAll(d.layout.ContainersDir(), 0o700); err != nil {
		return version, driver.Health{Reason: fmt.Sprintf("state dir %s is not writable: %v", d.layout.Root, err)}
	}
	return strings.TrimSpace(version), driver.Health{Ready: true}
}

// backendRequest rides in monitor.Request.Backend.
func (d *Driver) backendRequest() json.RawMessage { return d.cfg.request() }

// request is c as monitor.Request.Backend.
func (c runscConfig) request() json.RawMessage {
	data, _ := json.Marshal(c)
	return data
}

// Events streams the driver's event journal (package events) from now on.
func (d *Driver) Events(ctx context.Context, fn func(*driver.Event) error) error {
	return d.events.Stream(ctx, nil, fn)
}

// EventsFrom replays the event journal from req's cursor, then streams it.
func (d *Driver) EventsFrom(ctx context.Context, req *driver.EventsRequest, fn func(*driver.Event) error) error {
	return d.events.Stream(ctx, req, fn)
}
