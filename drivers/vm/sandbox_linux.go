package vm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/vmm"
	imon "github.com/rtd-project/rtd/kit/monitor"
	"github.com/rtd-project/rtd/kit/monitor/proc"
	"github.com/rtd-project/rtd/kit/sandboxrec"
)

// A sandbox (pod) of the vm driver is one VM with its own monitor
// (pod_linux.go); its containers are containers of the guest's linux
// driver, created through that monitor. The driver process still keeps
// nothing in memory: a sandbox is its dir (layout.SandboxDir), a container
// of it names it in its dir's sandbox file.

var _ driver.SandboxDriver = (*Driver)(nil)

// defaultStopTimeout is how long StopSandbox gives containers after
// SIGTERM, when the request says 0.
const defaultStopTimeout = 10 * time.Second

// startedFile in a sandbox dir marks that StartSandbox ran.
const startedFile = "started"

// CreateSandbox boots the sandbox's VM, with no container in it yet.
func (d *Driver) CreateSandbox(ctx context.Context, spec *driver.SandboxSpec) (_ *driver.Sandbox, retErr error) {
	if err := driver.ValidateID("sandbox id", spec.ID); err != nil {
		return nil, err
	}
	id := spec.ID
	if err := findAssets(d.exe).ready(); err != nil {
		return nil, driver.FailedPreconditionf("create sandbox %s: vm driver not ready: %v", id, err)
	}
	pc := podConfig{Hostname: spec.Hostname, MemoryMiB: defaultMemoryMiB}
	shared := spec.Namespaces
	if len(shared) == 0 {
		// Kubernetes' default, as the linux driver's.
		shared = []specs.LinuxNamespaceType{specs.IPCNamespace, specs.UTSNamespace}
	}
	for _, ns := range shared {
		switch ns {
		case "ipc", "uts", "pid":
			pc.Namespaces = append(pc.Namespaces, ns)
		default:
			return nil, driver.InvalidArgumentf("create sandbox %s: namespace %q cannot be shared (ipc, uts, pid can)", id, ns)
		}
	}
	if r := spec.Resources; r != nil && r.Memory != nil && r.Memory.Limit != nil && *r.Memory.Limit > 0 {
		pc.MemoryMiB = memoryMiB(*r.Memory.Limit)
	}
	if spec.NetNSPath != "" {
		if err := vmm.CheckNetns(spec.NetNSPath); err != nil {
			return nil, driver.InvalidArgumentf("create sandbox %s: %v", id, err)
		}
		pc.NetNSPath = spec.NetNSPath
	}
	backend, err := json.Marshal(pc)
	if err != nil {
		return nil, err
	}
	dir := d.layout.SandboxDir(id)
	if err := os.MkdirAll(d.layout.SandboxesDir(), 0o700); err != nil {
		return nil, fmt.Errorf("create sandbox %s: %w", id, err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if os.IsExist(err) {
			return nil, driver.AlreadyExistsf("create sandbox %s: a sandbox with this id already exists", id)
		}
		return nil, fmt.Errorf("create sandbox %s: %w", id, err)
	}
	defer func() {
		if retErr != nil {
			d.reap(dir)
			d.removeSandboxFiles(id)
		}
	}()
	r := imon.Request{ID: id, Annotations: spec.Annotations, Backend: backend}
	if _, err := d.c.Launch(ctx, dir, r); err != nil {
		return nil, fmt.Errorf("create sandbox %s: %w", id, err)
	}
	return d.SandboxStatus(ctx, id)
}

// removeSandboxFiles removes a sandbox's dir and sockets.
func (d *Driver) removeSandboxFiles(id string) {
	os.Remove(d.layout.sandboxSocket(id))
	d.layout.removeShareSockets(sandboxKey(id))
	os.RemoveAll(d.layout.SandboxDir(id))
}

// knownSandbox fails with NotFound unless sandbox id has a dir.
func (d *Driver) knownSandbox(op, id string) (string, error) {
	if id == "" || filepath.Base(id) != id {
		return "", driver.InvalidArgumentf("%s: bad sandbox id %q", op, id)
	}
	dir := d.layout.SandboxDir(id)
	if _, err := os.Stat(filepath.Join(dir, proc.RequestFile)); err != nil {
		return "", driver.NotFoundf("%s %s: no such sandbox", op, id)
	}
	return dir, nil
}

// StartSandbox makes a created sandbox ready for containers (its VM is up
// since CreateSandbox).
func (d *Driver) StartSandbox(ctx context.Context, id string) (*driver.Sandbox, error) {
	dir, err := d.knownSandbox("start sandbox", id)
	if err != nil {
		return nil, err
	}
	if imon.ReadExit(dir) != nil {
		return nil, driver.FailedPreconditionf("start sandbox %s: sandbox is stopped", id)
	}
	if err := os.WriteFile(filepath.Join(dir, startedFile), nil, 0o600); err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w", id, err)
	}
	return d.SandboxStatus(ctx, id)
}

// SandboxStatus describes a sandbox from its records.
func (d *Driver) SandboxStatus(ctx context.Context, id string) (*driver.Sandbox, error) {
	dir, err := d.knownSandbox("sandbox status", id)
	if err != nil {
		return nil, err
	}
	req, err := imon.ReadRequest(dir)
	if err != nil {
		return nil, driver.NotFoundf("sandbox status %s: record unreadable: %v", id, err)
	}
	var pc podConfig
	_ = json.Unmarshal(req.Backend, &pc)
	sb := &driver.Sandbox{
		ID: id, Status: driver.StatusCreated, Annotations: req.Annotations,
		CreatedAt: time.Unix(0, req.CreatedAt).UTC(), Hostname: pc.Hostname,
		Containers: d.sandboxContainers(id),
	}
	if _, err := os.Stat(filepath.Join(dir, startedFile)); err == nil {
		sb.Status = driver.StatusRunning
	}
	exit := imon.ReadExit(dir)
	if exit == nil {
		// No pid record yet: its monitor is being started.
		if rec, err := readPid(dir, monitorPidFile); err == nil && !rec.Alive() {
			if exit, err = d.exitOf(ctx, dir); err != nil {
				return nil, err
			}
		}
	}
	if exit != nil {
		sb.Status, sb.Exit = driver.StatusStopped, exit
		return sb, nil
	}
	if q, err := readPid(dir, qemuPidFile); err == nil && q.Alive() {
		sb.Pid = uint32(q.Pid)
	}
	return sb, nil
}

// sandboxContainers lists the ids of the containers of sandbox id.
func (d *Driver) sandboxContainers(id string) []string {
	entries, _ := os.ReadDir(d.layout.ContainersDir())
	var ids []string
	for _, e := range entries {
		if d.sandboxOf(e.Name()) == id {
			ids = append(ids, e.Name())
		}
	}
	return ids
}

// sandboxOf returns the sandbox container id was created in, "" for none.
func (d *Driver) sandboxOf(id string) string {
	data, err := os.ReadFile(filepath.Join(d.layout.ContainerDir(id), sandboxFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// WaitSandbox waits until the sandbox has stopped.
func (d *Driver) WaitSandbox(ctx context.Context, id string) (*driver.ExitStatus, error) {
	for {
		sb, err := d.SandboxStatus(ctx, id)
		if err != nil {
			return nil, err
		}
		if sb.Exit != nil {
			return sb.Exit, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// StopSandbox stops the sandbox's containers (SIGTERM, SIGKILL after the
// timeout), then its VM.
func (d *Driver) StopSandbox(ctx context.Context, req *driver.StopSandboxRequest) error {
	dir, err := d.knownSandbox("stop sandbox", req.ID)
	if err != nil {
		return err
	}
	if imon.ReadExit(dir) != nil {
		return nil
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = defaultStopTimeout
	}
	ids := d.sandboxContainers(req.ID)
	d.signalAll(ctx, ids, syscall.SIGTERM)
	if !d.waitAll(ctx, ids, timeout) {
		d.signalAll(ctx, ids, syscall.SIGKILL)
		d.waitAll(ctx, ids, deleteTimeout)
	}
	err = d.sandboxCall(ctx, req.ID, func(m driver.Driver) error {
		// The sandbox's key (no container id has a slash) stops its VM.
		return m.Kill(ctx, &driver.KillRequest{ID: sandboxKey(req.ID), Signal: uint32(syscall.SIGKILL)})
	})
	if err != nil && !monitorGone(err) {
		return fmt.Errorf("stop sandbox %s: %w", req.ID, err)
	}
	d.awaitMonitor(ctx, dir)
	if imon.ReadExit(dir) == nil {
		_, err := d.exitOf(ctx, dir)
		return err
	}
	return nil
}

func (d *Driver) signalAll(ctx context.Context, ids []string, sig syscall.Signal) {
	for _, id := range ids {
		if imon.ReadExit(d.layout.ContainerDir(id)) == nil {
			_ = d.monitorCall(ctx, id, func(m driver.Driver) error {
				return m.Kill(ctx, &driver.KillRequest{ID: id, Signal: uint32(sig), All: true})
			})
		}
	}
}

// waitAll waits until every container of ids has its exit recorded, at
// most limit.
func (d *Driver) waitAll(ctx context.Context, ids []string, limit time.Duration) bool {
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for _, id := range ids {
		if imon.ReadExit(d.layout.ContainerDir(id)) != nil {
			continue
		}
		if _, err := d.wait(wctx, id, ""); err != nil {
			return false
		}
	}
	return true
}

// ShutdownSandbox deletes the sandbox: its containers (running ones only
// with Force), its VM and its records.
func (d *Driver) ShutdownSandbox(ctx context.Context, req *driver.ShutdownSandboxRequest) error {
	dir, err := d.knownSandbox("shutdown sandbox", req.ID)
	if err != nil {
		return err
	}
	ids := d.sandboxContainers(req.ID)
	if !req.Force {
		if err := sandboxrec.RefuseRunning(ctx, d, req.ID, ids); err != nil {
			return err
		}
	}
	if imon.ReadExit(dir) == nil {
		if err := d.StopSandbox(ctx, &driver.StopSandboxRequest{ID: req.ID, Timeout: time.Second}); err != nil {
			return err
		}
	}
	var errs []error
	for _, id := range ids {
		if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: id, Force: true}); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("shutdown sandbox %s: %w", req.ID, errors.Join(errs...))
	}
	d.awaitMonitor(ctx, dir)
	d.removeSandboxFiles(req.ID)
	return nil
}

// ListSandboxes describes every sandbox the driver knows.
func (d *Driver) ListSandboxes(ctx context.Context) ([]*driver.Sandbox, error) {
	entries, err := os.ReadDir(d.layout.SandboxesDir())
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var out []*driver.Sandbox
	for _, e := range entries {
		if sb, err := d.SandboxStatus(ctx, e.Name()); err == nil {
			out = append(out, sb)
		}
	}
	return out, nil
}

// SandboxMetrics sums the guest cgroups of the sandbox's running
// containers (the VM's own kernel and agent are not in them).
func (d *Driver) SandboxMetrics(ctx context.Context, id string) (*driver.Stats, error) {
	dir, err := d.knownSandbox("sandbox metrics", id)
	if err != nil {
		return nil, err
	}
	if imon.ReadExit(dir) != nil {
		return nil, driver.FailedPreconditionf("sandbox metrics %s: sandbox is stopped", id)
	}
	sum := &driver.Stats{Fields: []string{"cpu", "memory", "pids"}}
	for _, c := range d.sandboxContainers(id) {
		st, err := d.Stats(ctx, c)
		if err != nil {
			continue // stopped meanwhile
		}
		sum.CPUUsageNanos += st.CPUUsageNanos
		sum.MemoryUsageBytes += st.MemoryUsageBytes
		sum.PidsCurrent += st.PidsCurrent
	}
	return sum, nil
}

// sandboxCall runs f against the monitor of sandbox id.
func (d *Driver) sandboxCall(ctx context.Context, id string, f func(driver.Driver) error) error {
	return d.callSocket(ctx, d.layout.sandboxSocket(id), "vm monitor of sandbox "+id, f)
}

// createInSandbox creates container req.ID in its sandbox's VM.
func (d *Driver) createInSandbox(ctx context.Context, req *driver.CreateRequest) (_ *driver.CreateResponse, retErr error) {
	sb, err := d.SandboxStatus(ctx, req.SandboxID)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return nil, driver.NotFoundf("create %s: sandbox %s does not exist", req.ID, req.SandboxID)
		}
		return nil, err
	}
	if sb.Status != driver.StatusRunning {
		return nil, driver.FailedPreconditionf("create %s: sandbox %s is %s, not running", req.ID, req.SandboxID, sb.Status)
	}
	bundle, _, _, err := d.c.Bundle(req)
	if err != nil {
		return nil, err
	}
	dir, err := d.c.NewDir(req.ID, "")
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			os.RemoveAll(dir)
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, sandboxFile), []byte(req.SandboxID), 0o600); err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	r := imon.Request{ID: req.ID, Bundle: bundle, Annotations: req.Annotations, Stdio: imon.StdioOf(req.Stdio), CreatedAt: time.Now().UnixNano()}
	if err := imon.WriteRequest(dir, r); err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	unlock := d.events.Lock(req.ID, "")
	defer unlock()
	fwd := *req
	fwd.Bundle = bundle
	fwd.SandboxID = "" // the monitor is the sandbox's: it needs no name of it
	var resp *driver.CreateResponse
	err = d.sandboxCall(ctx, req.SandboxID, func(m driver.Driver) (err error) { resp, err = m.Create(ctx, &fwd); return err })
	if monitorGone(err) {
		return nil, driver.FailedPreconditionf("create %s: sandbox %s is stopped", req.ID, req.SandboxID)
	}
	if err != nil {
		return nil, err
	}
	if err := d.events.Record(driver.Event{Type: driver.EventCreate, ID: req.ID, Pid: resp.Pid}); err != nil {
		d.log.Warn("events", "id", req.ID, "error", err)
	}
	return resp, nil
}

// deleteFromSandbox removes a stopped container of a sandbox from its VM
// (its guest container, mounts and images); a sandbox that is gone holds
// nothing of it any more.
func (d *Driver) deleteFromSandbox(ctx context.Context, sandbox, id string) error {
	err := d.sandboxCall(ctx, sandbox, func(m driver.Driver) error {
		_, err := m.Delete(ctx, &driver.DeleteRequest{ID: id})
		return err
	})
	if err == nil || monitorGone(err) || errdefs.IsNotFound(err) {
		return nil
	}
	return err
}
