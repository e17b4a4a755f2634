package gvisor

import (
	"context"
	"path/filepath"
	"time"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/sandboxrec"
)

// A gvisor sandbox is one runsc sandbox (one Sentry, one gofer) whose
// first container is a pause process the driver creates itself: the
// driver's own static binary, bind-mounted read-only as /rtd-pause into an
// empty root (pause_linux.go). Its runsc id is "sandbox+ID": '+' is valid
// for runsc and not in rtd ids, so it never meets a container's id in the
// driver's runsc root. Containers created in the sandbox
// (CreateRequest.SandboxID) are runsc sub-containers: their spec carries
// the CRI annotations runsc reads (container-type "container", sandbox-id
// "sandbox+ID"). The record lives in STATE/sandboxes/ID (sandbox.json, one
// members/ID file per container created in it). The sandbox process is
// started in a session of its own: no driver process waits for it, so it
// outlives them.

var _ driver.SandboxDriver = (*Driver)(nil)

// sandboxRecord is sandbox.json. Its Holder is the sandbox process
// (runsc boot), as runsc create's pid file names it.
type sandboxRecord struct {
	sandboxrec.Record
	// Network is runsc's --network for the sandbox and every container of
	// it: "none", or "host" in Spec.NetNSPath.
	Network string
}

// sandboxRunscPrefix makes the runsc id of a sandbox's pause container.
const sandboxRunscPrefix = "sandbox+"

func runscSandboxID(id string) string { return sandboxRunscPrefix + id }

// sandboxes is the driver's sandbox records and their common verbs.
func (d *Driver) sandboxes() *sandboxrec.Holders[sandboxRecord, *sandboxRecord] {
	return &sandboxrec.Holders[sandboxRecord, *sandboxRecord]{
		Dir: filepath.Join(d.layout.Root, "sandboxes"), Driver: d,
		Gone:       func(c string) bool { return d.known("", c) != nil },
		GoneReason: "the sandbox process ended without a stop",
		Finish: func(r *sandboxRecord, sb *driver.Sandbox) {
			if r.Network == "host" {
				sb.NetNSPath = r.Spec.NetNSPath
			}
		},
	}
}

func (d *Driver) sandboxDir(id string) string { return d.sandboxes().SandboxDir(id) }

// sandboxConfig is the runsc configuration of a sandbox and its containers.
func (d *Driver) sandboxConfig(r *sandboxRecord) runscConfig {
	c := d.cfg
	c.Network = r.Network
	c.Sandbox = runscSandboxID(r.Spec.ID)
	return c
}

// checkSandboxSpec refuses what a gvisor sandbox cannot be made from.
func checkSandboxSpec(spec *driver.SandboxSpec) error {
	if err := driver.ValidateID("sandbox id", spec.ID); err != nil {
		return err
	}
	if _, err := sandboxrec.SharedNamespaces(spec); err != nil {
		return err
	}
	if r := spec.Resources; r != nil && r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit > 0 {
		return driver.NotImplementedf("create sandbox %s: the gvisor driver does not support a pids limit: it would count the sandbox's own threads, not the workload's processes", spec.ID)
	}
	return sandboxrec.CheckNetNS(spec)
}

// CreateSandbox creates the sandbox's runsc sandbox with its pause
// container (not started yet).
func (d *Driver) CreateSandbox(ctx context.Context, spec *driver.SandboxSpec) (*driver.Sandbox, error) {
	if err := checkSandboxSpec(spec); err != nil {
		return nil, err
	}
	r := &sandboxRecord{Record: sandboxrec.Record{Spec: *spec, CreatedAt: time.Now().UTC(), Cgroup: spec.CgroupParent}, Network: "none"}
	if r.Cgroup == "" {
		r.Cgroup = sandboxCgroup(d.layout.Root, spec.ID)
	}
	if spec.NetNSPath != "" {
		r.Network = "host"
	}
	start := func(r *sandboxRecord) (err error) {
		r.Holder, err = d.createPause(ctx, r)
		return err
	}
	undo := func(r *sandboxRecord) { d.destroySandbox(context.WithoutCancel(ctx), r) }
	sb, err := d.sandboxes().Create(r, start, undo)
	if err != nil {
		return nil, err
	}
	d.log.Debug("sandbox created", "id", spec.ID, "pid", r.Holder.Pid)
	return sb, nil
}

// StartSandbox starts the pause container: the sandbox is then ready for
// containers.
func (d *Driver) StartSandbox(ctx context.Context, id string) (*driver.Sandbox, error) {
	return d.sandboxes().Start(id, func(r *sandboxRecord) error {
		return d.sandboxConfig(r).runtime().Start(ctx, runscSandboxID(id))
	})
}

// SandboxStatus reports a sandbox.
func (d *Driver) SandboxStatus(ctx context.Context, id string) (*driver.Sandbox, error) {
	return d.sandboxes().Status(id)
}

// ListSandboxes reports every sandbox.
func (d *Driver) ListSandboxes(ctx context.Context) ([]*driver.Sandbox, error) {
	return d.sandboxes().List()
}

// WaitSandbox waits until the sandbox process has ended.
func (d *Driver) WaitSandbox(ctx context.Context, id string) (*driver.ExitStatus, error) {
	return d.sandboxes().Wait(ctx, id)
}

// SandboxMetrics is not implemented: the driver has no stats yet.
func (d *Driver) SandboxMetrics(ctx context.Context, id string) (*driver.Stats, error) {
	r, err := d.sandboxes().Read("sandbox metrics", id)
	if err != nil {
		return nil, err
	}
	return nil, driver.NotImplementedf("sandbox metrics %s: the gvisor driver has no stats yet; the sandbox's host cgroup is %s", id, r.Cgroup)
}
