package linux

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/monitor/proc"
	"github.com/rtd-project/rtd/kit/sandboxrec"
)

// A linux sandbox is a holder process (lcmon's "sandbox-holder", a pause)
// started in new IPC, UTS and optionally PID and network namespaces, in a
// cgroup of its own; the containers created in it join those namespaces by
// path (/proc/HOLDER/ns/TYPE, or the network namespace the caller gave) and
// put their cgroups below the sandbox's. Its record lives in
// STATE/sandboxes/ID (sandbox.json, one members/ID file per container
// created in it), so a new driver process finds it; the holder is a
// session leader no driver process waits for, so it outlives them.

var _ driver.SandboxDriver = (*Driver)(nil)

// sandboxRecord is sandbox.json.
type sandboxRecord struct {
	sandboxrec.Record
	NetNSPath string // what the containers join
}

// sandboxes is the driver's sandbox records and their common verbs.
func (d *Driver) sandboxes() *sandboxrec.Holders[sandboxRecord, *sandboxRecord] {
	return &sandboxrec.Holders[sandboxRecord, *sandboxRecord]{
		Dir: filepath.Join(d.layout.Root, "sandboxes"), Driver: d,
		Gone:       func(c string) bool { return d.known("", c) != nil },
		GoneReason: "the sandbox's holder process ended without a stop",
		Finish:     func(r *sandboxRecord, sb *driver.Sandbox) { sb.NetNSPath = r.NetNSPath },
	}
}

// CreateSandbox starts the sandbox's holder in its namespaces and cgroup.
func (d *Driver) CreateSandbox(ctx context.Context, spec *driver.SandboxSpec) (*driver.Sandbox, error) {
	if err := driver.ValidateID("sandbox id", spec.ID); err != nil {
		return nil, err
	}
	shared, err := sandboxrec.SharedNamespaces(spec)
	if err != nil {
		return nil, err
	}
	if err := sandboxrec.CheckNetNS(spec); err != nil {
		return nil, err
	}
	sbs := d.sandboxes()
	r := &sandboxRecord{Record: sandboxrec.Record{Spec: *spec, CreatedAt: time.Now().UTC(), Cgroup: spec.CgroupParent}}
	r.Spec.Namespaces = shared
	if r.Cgroup == "" {
		r.Cgroup = sandboxCgroup(d.layout.Root, spec.ID)
	}
	sb, err := sbs.Create(r, func(r *sandboxRecord) error { return d.startSandbox(ctx, r) }, func(r *sandboxRecord) {
		proc.KillRecorded(r.Holder)
		destroyCgroup(r.Cgroup)
		os.RemoveAll(sbs.SandboxDir(r.Spec.ID))
	})
	if err != nil {
		return nil, err
	}
	d.log.Debug("sandbox created", "id", spec.ID, "holder", r.Holder.Pid)
	return sb, nil
}

// startSandbox starts r's holder in its cgroup and records the network
// namespace its containers join.
func (d *Driver) startSandbox(ctx context.Context, r *sandboxRecord) (err error) {
	if r.Holder, err = d.startHolder(ctx, r); err != nil {
		return err
	}
	if err := applyCgroup(r.Cgroup, r.Spec.Resources, r.Holder.Pid); err != nil {
		return fmt.Errorf("create sandbox %s: cgroup %s: %w", r.Spec.ID, r.Cgroup, err)
	}
	r.NetNSPath = r.Spec.NetNSPath
	if r.NetNSPath == "" {
		r.NetNSPath = fmt.Sprintf("/proc/%d/ns/net", r.Holder.Pid)
	}
	return nil
}

// StartSandbox makes a created sandbox ready for containers.
func (d *Driver) StartSandbox(ctx context.Context, id string) (*driver.Sandbox, error) {
	return d.sandboxes().Start(id, nil)
}

// SandboxStatus reports a sandbox.
func (d *Driver) SandboxStatus(ctx context.Context, id string) (*driver.Sandbox, error) {
	return d.sandboxes().Status(id)
}

// ListSandboxes reports every sandbox.
func (d *Driver) ListSandboxes(ctx context.Context) ([]*driver.Sandbox, error) {
	return d.sandboxes().List()
}

// WaitSandbox waits until the holder has ended.
func (d *Driver) WaitSandbox(ctx context.Context, id string) (*driver.ExitStatus, error) {
	return d.sandboxes().Wait(ctx, id)
}
