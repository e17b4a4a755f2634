package linux

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

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
	Spec      driver.SandboxSpec
	Holder    proc.PidRecord
	NetNSPath string // what the containers join
	Cgroup    string
	Started   bool
	CreatedAt time.Time
	Exit      *driver.ExitStatus `json:",omitempty"`
}

func (d *Driver) sandboxesDir() string        { return filepath.Join(d.layout.Root, "sandboxes") }
func (d *Driver) sandboxDir(id string) string { return filepath.Join(d.sandboxesDir(), id) }

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

// snapshot is the contract's view of r: a holder that died without a stop
// makes the sandbox stopped with a reason.
func (d *Driver) snapshot(r *sandboxRecord) *driver.Sandbox {
	sb := &driver.Sandbox{
		ID: r.Spec.ID, Status: driver.StatusCreated, Pid: uint32(r.Holder.Pid), NetNSPath: r.NetNSPath,
		Containers: d.members(r.Spec.ID), Exit: r.Exit, Annotations: r.Spec.Annotations,
		CreatedAt: r.CreatedAt, Hostname: r.Spec.Hostname, CgroupPath: r.Cgroup,
	}
	switch {
	case r.Exit != nil:
		sb.Status = driver.StatusStopped
	case r.Holder.Gone():
		sb.Status = driver.StatusStopped
		sb.Exit = &driver.ExitStatus{Code: 137, Signal: 9, Reason: "the sandbox's holder process ended without a stop"}
	case r.Started:
		sb.Status = driver.StatusRunning
	}
	return sb
}

// sharedNamespaces are the namespace types a sandbox shares besides the
// network one: the spec's list, or ipc and uts (Kubernetes' default).
func sharedNamespaces(spec *driver.SandboxSpec) ([]specs.LinuxNamespaceType, error) {
	if len(spec.Namespaces) == 0 {
		return []specs.LinuxNamespaceType{specs.IPCNamespace, specs.UTSNamespace}, nil
	}
	for _, ns := range spec.Namespaces {
		ok := false
		for _, allowed := range driver.SandboxNamespaces {
			ok = ok || ns == allowed
		}
		if !ok {
			return nil, driver.InvalidArgumentf("create sandbox %s: namespace %q cannot be shared: use ipc, uts or pid (the network one always is)", spec.ID, ns)
		}
	}
	return spec.Namespaces, nil
}

// CreateSandbox starts the sandbox's holder in its namespaces and cgroup.
func (d *Driver) CreateSandbox(ctx context.Context, spec *driver.SandboxSpec) (_ *driver.Sandbox, retErr error) {
	if err := driver.ValidateID("sandbox id", spec.ID); err != nil {
		return nil, err
	}
	shared, err := sharedNamespaces(spec)
	if err != nil {
		return nil, err
	}
	if spec.NetNSPath != "" {
		if err := checkNetNS(spec.NetNSPath); err != nil {
			return nil, driver.InvalidArgumentf("create sandbox %s: network namespace %s: %v", spec.ID, spec.NetNSPath, err)
		}
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
	r := &sandboxRecord{Spec: *spec, CreatedAt: time.Now().UTC(), Cgroup: spec.CgroupParent}
	r.Spec.Namespaces = shared
	if r.Cgroup == "" {
		r.Cgroup = sandboxCgroup(d.layout.Root, spec.ID)
	}
	defer func() {
		if retErr != nil {
			proc.KillRecorded(r.Holder)
			destroyCgroup(r.Cgroup)
			os.RemoveAll(dir)
		}
	}()
	if err := os.Mkdir(filepath.Join(dir, "members"), 0o700); err != nil {
		return nil, fmt.Errorf("create sandbox %s: %w", spec.ID, err)
	}
	if r.Holder, err = d.startHolder(ctx, r); err != nil {
		return nil, err
	}
	if err := applyCgroup(r.Cgroup, spec.Resources, r.Holder.Pid); err != nil {
		return nil, fmt.Errorf("create sandbox %s: cgroup %s: %w", spec.ID, r.Cgroup, err)
	}
	r.NetNSPath = spec.NetNSPath
	if r.NetNSPath == "" {
		r.NetNSPath = fmt.Sprintf("/proc/%d/ns/net", r.Holder.Pid)
	}
	if err := d.writeSandbox(r); err != nil {
		return nil, fmt.Errorf("create sandbox %s: %w", spec.ID, err)
	}
	d.log.Debug("sandbox created", "id", spec.ID, "holder", r.Holder.Pid)
	return d.snapshot(r), nil
}

// checkNetNS checks that path is a network namespace file.
func checkNetNS(path string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return err
	}
	if st.Type != unix.NSFS_MAGIC && st.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("not a namespace file (nsfs)")
	}
	return nil
}

// StartSandbox makes a created sandbox ready for containers.
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

// WaitSandbox waits until the holder has ended.
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
