package gvisor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/monitor/proc"
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

// sandboxRecord is sandbox.json.
type sandboxRecord struct {
	Spec driver.SandboxSpec
	// Holder is the sandbox process (runsc boot), as runsc create's pid
	// file names it.
	Holder proc.PidRecord
	// Network is runsc's --network for the sandbox and every container of
	// it: "none", or "host" in Spec.NetNSPath.
	Network   string
	Cgroup    string
	Started   bool
	CreatedAt time.Time
	Exit      *driver.ExitStatus `json:",omitempty"`
}

// sandboxRunscPrefix makes the runsc id of a sandbox's pause container.
const sandboxRunscPrefix = "sandbox+"

func runscSandboxID(id string) string { return sandboxRunscPrefix + id }

func (d *Driver) sandboxesDir() string        { return filepath.Join(d.layout.Root, "sandboxes") }
func (d *Driver) sandboxDir(id string) string { return filepath.Join(d.sandboxesDir(), id) }

// sandboxConfig is the runsc configuration of a sandbox and its containers.
func (d *Driver) sandboxConfig(r *sandboxRecord) runscConfig {
	c := d.cfg
	c.Network = r.Network
	c.Sandbox = runscSandboxID(r.Spec.ID)
	return c
}

// lockSandbox takes the sandbox's lock (kit/sandboxrec).
func (d *Driver) lockSandbox(id string) (func(), error) { return sandboxrec.Lock(d.sandboxesDir(), id) }

func (d *Driver) readSandbox(op, id string) (*sandboxRecord, error) {
	return sandboxrec.Read[sandboxRecord](d.sandboxesDir(), op, id)
}

func (d *Driver) writeSandbox(r *sandboxRecord) error {
	return sandboxrec.Write(d.sandboxesDir(), r.Spec.ID, r)
}

// members returns the containers created in sandbox id and not deleted;
// the marks of deleted ones are removed.
func (d *Driver) members(id string) []string {
	return sandboxrec.Members(d.sandboxesDir(), id, func(c string) bool { return d.known("", c) != nil })
}

// snapshot is the contract's view of r: a sandbox process that died
// without a stop makes the sandbox stopped with a reason.
func (d *Driver) snapshot(r *sandboxRecord) *driver.Sandbox {
	sb := &driver.Sandbox{
		ID: r.Spec.ID, Status: driver.StatusCreated, Pid: uint32(r.Holder.Pid),
		Containers: d.members(r.Spec.ID), Exit: r.Exit, Annotations: r.Spec.Annotations,
		CreatedAt: r.CreatedAt, Hostname: r.Spec.Hostname, CgroupPath: r.Cgroup,
	}
	if r.Network == "host" {
		sb.NetNSPath = r.Spec.NetNSPath
	}
	switch {
	case r.Exit != nil:
		sb.Status = driver.StatusStopped
	case r.Holder.Gone():
		sb.Status = driver.StatusStopped
		sb.Exit = &driver.ExitStatus{Code: 137, Signal: 9, Reason: "the sandbox process ended without a stop"}
	case r.Started:
		sb.Status = driver.StatusRunning
	}
	return sb
}

// checkSandboxSpec refuses what a gvisor sandbox cannot be made from.
func checkSandboxSpec(spec *driver.SandboxSpec) error {
	if err := driver.ValidateID("sandbox id", spec.ID); err != nil {
		return err
	}
	for _, ns := range spec.Namespaces {
		ok := false
		for _, allowed := range driver.SandboxNamespaces {
			ok = ok || ns == allowed
		}
		if !ok {
			return driver.InvalidArgumentf("create sandbox %s: namespace %q cannot be shared: use ipc, uts or pid (the network one always is)", spec.ID, ns)
		}
	}
	if r := spec.Resources; r != nil && r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit > 0 {
		return driver.NotImplementedf("create sandbox %s: the gvisor driver does not support a pids limit: it would count the sandbox's own threads, not the workload's processes", spec.ID)
	}
	if spec.NetNSPath != "" {
		var st unix.Statfs_t
		if err := unix.Statfs(spec.NetNSPath, &st); err != nil {
			return driver.InvalidArgumentf("create sandbox %s: network namespace %s: %v", spec.ID, spec.NetNSPath, err)
		}
		if st.Type != unix.NSFS_MAGIC && st.Type != unix.PROC_SUPER_MAGIC {
			return driver.InvalidArgumentf("create sandbox %s: network namespace %s: not a namespace file (nsfs)", spec.ID, spec.NetNSPath)
		}
	}
	return nil
}

// CreateSandbox creates the sandbox's runsc sandbox with its pause
// container (not started yet).
func (d *Driver) CreateSandbox(ctx context.Context, spec *driver.SandboxSpec) (_ *driver.Sandbox, retErr error) {
	if err := checkSandboxSpec(spec); err != nil {
		return nil, err
	}
	unlock, err := d.lockSandbox(spec.ID)
	if err != nil {
		return nil, fmt.Errorf("create sandbox %s: %w", spec.ID, err)
	}
	defer unlock()
	dir := d.sandboxDir(spec.ID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if os.IsExist(err) {
			return nil, driver.AlreadyExistsf("create sandbox %s: a sandbox with this id already exists", spec.ID)
		}
		return nil, fmt.Errorf("create sandbox %s: %w", spec.ID, err)
	}
	r := &sandboxRecord{Spec: *spec, CreatedAt: time.Now().UTC(), Cgroup: spec.CgroupParent, Network: "none"}
	if r.Cgroup == "" {
		r.Cgroup = sandboxCgroup(d.layout.Root, spec.ID)
	}
	if spec.NetNSPath != "" {
		r.Network = "host"
	}
	defer func() {
		if retErr != nil {
			d.destroySandbox(context.WithoutCancel(ctx), r)
		}
	}()
	if err := os.Mkdir(filepath.Join(dir, "members"), 0o700); err != nil {
		return nil, fmt.Errorf("create sandbox %s: %w", spec.ID, err)
	}
	if r.Holder, err = d.createPause(ctx, r); err != nil {
		return nil, err
	}
	if err := d.writeSandbox(r); err != nil {
		return nil, fmt.Errorf("create sandbox %s: %w", spec.ID, err)
	}
	d.log.Debug("sandbox created", "id", spec.ID, "pid", r.Holder.Pid)
	return d.snapshot(r), nil
}

// StartSandbox starts the pause container: the sandbox is then ready for
// containers.
func (d *Driver) StartSandbox(ctx context.Context, id string) (*driver.Sandbox, error) {
	unlock, err := d.lockSandbox(id)
	if err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w", id, err)
	}
	defer unlock()
	r, err := d.readSandbox("start sandbox", id)
	if err != nil {
		return nil, err
	}
	if sb := d.snapshot(r); sb.Status != driver.StatusCreated {
		return nil, driver.FailedPreconditionf("start sandbox %s: sandbox is %s, not created", id, sb.Status)
	}
	if err := d.sandboxConfig(r).runtime().Start(ctx, runscSandboxID(id)); err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w", id, err)
	}
	r.Started = true
	if err := d.writeSandbox(r); err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w", id, err)
	}
	return d.snapshot(r), nil
}

// SandboxStatus reports a sandbox.
func (d *Driver) SandboxStatus(ctx context.Context, id string) (*driver.Sandbox, error) {
	r, err := d.readSandbox("sandbox status", id)
	if err != nil {
		return nil, err
	}
	return d.snapshot(r), nil
}

// ListSandboxes reports every sandbox.
func (d *Driver) ListSandboxes(ctx context.Context) ([]*driver.Sandbox, error) {
	return sandboxrec.List(d.sandboxesDir(), d.snapshot)
}

// WaitSandbox waits until the sandbox process has ended.
func (d *Driver) WaitSandbox(ctx context.Context, id string) (*driver.ExitStatus, error) {
	for {
		r, err := d.readSandbox("wait sandbox", id)
		if err != nil {
			return nil, err
		}
		if sb := d.snapshot(r); sb.Status == driver.StatusStopped {
			if r.Exit == nil {
				d.settle(id)
				continue
			}
			return sb.Exit, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// settle records the exit of a sandbox whose process ended without a
// stop, so that every later call reports the same exit.
func (d *Driver) settle(id string) {
	unlock, err := d.lockSandbox(id)
	if err != nil {
		return
	}
	defer unlock()
	r, err := d.readSandbox("", id)
	if err != nil || r.Exit != nil || !r.Holder.Gone() {
		return
	}
	r.Exit = &driver.ExitStatus{Code: 137, Signal: 9, ExitedAt: time.Now().UTC(), Reason: "the sandbox process ended without a stop"}
	_ = d.writeSandbox(r)
}

// SandboxMetrics is not implemented: the driver has no stats yet.
func (d *Driver) SandboxMetrics(ctx context.Context, id string) (*driver.Stats, error) {
	r, err := d.readSandbox("sandbox metrics", id)
	if err != nil {
		return nil, err
	}
	return nil, driver.NotImplementedf("sandbox metrics %s: the gvisor driver has no stats yet; the sandbox's host cgroup is %s", id, r.Cgroup)
}
