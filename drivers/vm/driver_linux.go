package vm

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/vm/wire"
	"github.com/rtd-project/rtd/kit/events"
	imon "github.com/rtd-project/rtd/kit/monitor"
)

// Options configure a Driver.
type Options struct {
	// StateDir holds the driver's container state; default /run/rtd/drivers/vm.
	StateDir string
	Logger   hclog.Logger
	// Version is reported by Info.
	Version string
}

// Driver runs each container in its own QEMU microVM. It keeps no container
// state in memory: everything lives in the state directory and in the
// per-container monitors, so the driver process may exit at any time.
type Driver struct {
	driver.Unimplemented // checkpoint, restore
	layout               layout
	c                    *imon.Containers
	events               *events.Journal
	log                  hclog.Logger
	version              string
	exe                  string // this binary, re-executed as monitor
}

var (
	_ driver.Driver        = (*Driver)(nil)
	_ driver.EventReplayer = (*Driver)(nil)
)

// New returns a vm driver.
func New(opts Options) *Driver {
	o := imon.Options(opts)
	c := o.Containers("vm")
	c.Spawn = spawnOptions
	return &Driver{
		layout: layout{c.Layout}, c: c, events: events.New(o.StateDir, o.Logger),
		log: o.Logger, version: o.Version, exe: c.Exe,
	}
}

// Info describes the driver and probes the host: the kernel cache, the
// agent, QEMU, erofs-utils, and which accelerator really boots a guest.
func (d *Driver) Info(ctx context.Context) (*driver.Info, error) {
	a := findAssets(d.exe)
	iso := driver.Isolation{
		Class:            driver.IsolationVM,
		SharesHostKernel: false,
		GuestKernel:      "unknown: no guest kernel cached",
		SyscallFilter:    "seccomp inside the guest (libseccomp in the agent): the OCI spec's profile (rtd run's default: docker's) is enforced by the guest kernel; the host sees only QEMU's syscalls",
		UserNamespaces:   true,
		CapabilityModel:  "the OCI spec's capability sets apply inside the guest (rtd's default: docker's 14); root in the container is root of a guest kernel, not of the host",
		Rootless:         false,
		ResourceAccounting: "in guest: cgroups v2 of the guest kernel hold the spec's limits; the VM is sized by --memory " +
			fmt.Sprintf("(limit + %d MiB, at least %d MiB; %d MiB without a limit), %d vCPU", overheadMiB, minMemoryMiB, defaultMemoryMiB, defaultCPUs),
		Platform: "qemu microvm",
		KnownGaps: []string{
			"network: a spec's network namespace (the core's bridge or user network through CNI) is handed to the guest as a tap with tc redirection and a virtio-net device configured as the namespace's interface; /etc/hosts, /etc/resolv.conf and /etc/hostname are copies taken at create (a user network's later members are not added to /etc/hosts)",
			"read-write bind mounts of directories (and volumes) are shared live through virtiofs (one virtiofsd per directory); read-only binds and binds of files are copies taken at create time (a read-only disk image): later host changes do not reach the guest, and writes to a file bind stay in guest memory",
			"the root filesystem is an EROFS copy of the bundle's root with a writable layer in guest memory: writes are lost at delete",
			"OCI hooks are not run; joining existing namespaces (paths) is refused",
			"pids from Pids are guest pids; the container's pid is QEMU's on the host",
			"Update changes the guest cgroup's limits, not the VM's size",
			"no checkpoint or restore",
			"sandboxes (pods): one VM per pod; its containers share the guest's network (loopback only: a network namespace given for the pod is not connected to the guest), IPC and UTS namespaces (and PID when asked: then they also see the guest agent); read-write bind mounts of directories (volumes) are refused in a pod, whose virtiofs devices are fixed at boot",
		},
	}
	health := driver.Health{Ready: true}
	switch {
	case a.agent == "":
		iso.SyscallFilter = "unknown: the guest agent is not installed"
	case agentInfo(ctx, a.agent).SyscallFilter != "seccomp":
		iso.SyscallFilter = "none: the guest agent was built without -tags seccomp (or cannot tell), so a spec with a seccomp profile is refused"
	}
	if a.kernel != nil {
		iso.GuestKernel = a.kernel.Describe()
	}
	if err := a.ready(); err != nil {
		health = driver.Health{Reason: err.Error()}
	} else if err := os.MkdirAll(d.layout.ContainersDir(), 0o700); err != nil {
		health = driver.Health{Reason: fmt.Sprintf("state dir %s is not writable: %v", d.layout.Root, err)}
	} else {
		accel := probeAccel(d.layout, d.log, a)
		iso.Platform = "qemu microvm, " + accel.Accel
		if accel.Reason != "" {
			iso.Platform += " (" + accel.Reason + ")"
		}
		if accel.Accel == "tcg" {
			iso.KnownGaps = append(iso.KnownGaps, "TCG (software emulation): boots take seconds and the workload runs several times slower than with KVM")
		}
	}
	return &driver.Info{
		Name:            "vm",
		Version:         d.version,
		ContractVersion: driver.ContractVersion,
		OS:              runtime.GOOS,
		Arch:            runtime.GOARCH,
		Isolation:       iso,
		Capabilities: driver.Capabilities{
			Exec: true, Terminal: true, ResizePty: true, CloseIO: true, Pause: true,
			Stats: true, Update: true, Pids: true, Events: true, Sandboxes: true,
			StatsFields: []string{"cpu", "memory", "pids"}, NetworkNamespace: true,
		},
		Health: health,
	}, nil
}

// agentInfo asks the agent binary how it was built.
func agentInfo(ctx context.Context, agent string) wire.AgentInfo {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var info wire.AgentInfo
	out, err := exec.CommandContext(ctx, agent, wire.InfoArg).Output()
	if err == nil {
		_ = json.Unmarshal(out, &info)
	}
	return info
}

// memoryLimit returns the spec's memory limit in bytes, 0 when none.
func memoryLimit(spec *specs.Spec) int64 {
	if spec.Linux == nil || spec.Linux.Resources == nil || spec.Linux.Resources.Memory == nil || spec.Linux.Resources.Memory.Limit == nil {
		return 0
	}
	return *spec.Linux.Resources.Memory.Limit
}

func itoa(i int) string { return strconv.Itoa(i) }

// Events streams the driver's event journal (package events) from now on.
func (d *Driver) Events(ctx context.Context, fn func(*driver.Event) error) error {
	return d.events.Stream(ctx, nil, fn)
}

// EventsFrom replays the event journal from req's cursor, then streams it.
func (d *Driver) EventsFrom(ctx context.Context, req *driver.EventsRequest, fn func(*driver.Event) error) error {
	return d.events.Stream(ctx, req, fn)
}

// journaled runs a call against a container's monitor and journals the event
// typ when it succeeds (a journal failure is logged: the call stands).
func (d *Driver) journaled(ctx context.Context, typ driver.EventType, id string, f func(driver.Driver) error) error {
	if err := d.known(string(typ), id); err != nil {
		return err
	}
	unlock := d.events.Lock(id, "")
	defer unlock()
	if err := d.running(ctx, string(typ), id, f); err != nil {
		return err
	}
	ev := driver.Event{Type: typ, ID: id}
	if rec, err := readPid(d.layout.ContainerDir(id), qemuPidFile); err == nil {
		ev.Pid = uint32(rec.Pid)
	}
	if err := d.events.Record(ev); err != nil {
		d.log.Warn("events", "error", err)
	}
	return nil
}
