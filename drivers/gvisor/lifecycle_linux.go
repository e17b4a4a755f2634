package gvisor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
	"github.com/rtd-project/rtd/kit/monitor"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// deleteKillTimeout bounds how long a forced Delete waits for the sandbox.
const deleteKillTimeout = 15 * time.Second

// Create checks the bundle, refuses a duplicate id itself (runsc destroys
// the existing container when a duplicate create fails) and starts a
// monitor that runs `runsc create`.
func (d *Driver) Create(ctx context.Context, req *driver.CreateRequest) (_ *driver.CreateResponse, retErr error) {
	_, spec, rootfs, err := d.c.Bundle(req)
	if err != nil {
		return nil, err
	}
	if spec.Root == nil {
		spec.Root = &specs.Root{}
	}
	spec.Root.Path = rootfs
	if err := adaptSpec(d.layout.Root, req.ID, spec); err != nil {
		return nil, err
	}
	cfg := d.cfg
	if req.SandboxID != "" {
		sb, err := d.sandboxes().Join(req.ID, req.SandboxID)
		if err != nil {
			return nil, err
		}
		adaptMember(spec, sb)
		cfg = d.sandboxConfig(sb)
	}
	for _, dir := range []string{d.cfg.Root, d.cfg.LogDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", req.ID, err)
		}
	}
	dir, err := d.c.NewDir(req.ID, "")
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			d.destroy(context.WithoutCancel(ctx), req.ID)
		}
	}()
	// runsc gets a private copy of the bundle: the caller's config.json is
	// not ours to change.
	private := filepath.Join(dir, "bundle")
	if err := os.Mkdir(private, 0o700); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteJSON(filepath.Join(private, ocispec.ConfigName), spec, 0o600); err != nil {
		return nil, err
	}
	if cfg.Sandbox != "" {
		if err := d.sandboxes().MarkMember(req.ID, req.SandboxID); err != nil {
			return nil, err
		}
		// Start tells the sub-container's waiter through it (pause_linux.go).
		if err := unix.Mkfifo(filepath.Join(dir, startFifo), 0o600); err != nil {
			return nil, fmt.Errorf("create %s: %w", req.ID, err)
		}
	}
	unlock := d.events.Lock(req.ID, "")
	defer unlock()
	r := monitor.Request{
		ID: req.ID, Bundle: private, Annotations: req.Annotations, Stdio: monitor.StdioOf(req.Stdio),
		Backend: cfg.request(),
	}
	pid, err := d.c.Launch(ctx, dir, r)
	if err != nil {
		return nil, err
	}
	if err := d.events.Record(driver.Event{Type: driver.EventCreate, ID: req.ID, Pid: uint32(pid)}); err != nil {
		return nil, err
	}
	return &driver.CreateResponse{Pid: uint32(pid)}, nil
}

// adaptSpec fits a spec to runsc: a cgroup per container (so limits and
// OOM kills are accounted per sandbox; unique per state directory, see
// ocispec.CgroupsPath) and no pids limit, which gVisor would apply to its
// own threads.
func adaptSpec(stateDir, id string, spec *specs.Spec) error {
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	if spec.Linux.CgroupsPath == "" {
		spec.Linux.CgroupsPath = ocispec.CgroupsPath(stateDir, id)
	}
	if r := spec.Linux.Resources; r != nil && r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit > 0 {
		return driver.NotImplementedf("create %s: the gvisor driver does not support a pids limit: it would count the sandbox's own threads, not the workload's processes", id)
	}
	// runsc reads these CRI annotations and then creates the container
	// inside another sandbox: only the driver's own sandboxes decide that
	// (adaptMember sets them for a container created in one).
	for _, k := range sandboxAnnotations {
		delete(spec.Annotations, k)
	}
	return nil
}

// sandboxAnnotations are the annotations runsc takes to mean "join the
// sandbox of this pod" (containerd's CRI and CRI-O).
var sandboxAnnotations = []string{
	"io.kubernetes.cri.container-type",
	"io.kubernetes.cri.sandbox-id",
	"io.kubernetes.cri-o.ContainerType",
	"io.kubernetes.cri-o.SandboxID",
}

// destroy removes whatever a container left: sandbox, runsc state, dirs.
func (d *Driver) destroy(ctx context.Context, id string) {
	if rec, err := monitor.ReadPidRecord(d.layout.ContainerDir(id)); err == nil && rec.Alive() {
		_ = syscall.Kill(rec.Pid, syscall.SIGKILL)
	}
	_ = d.cfg.runtime().Delete(ctx, id, true)
	d.removeFiles(id)
}

// removeFiles removes what the driver kept for a container.
func (d *Driver) removeFiles(id string) {
	monitor.RemoveSockets(d.layout, id)
	os.RemoveAll(d.layout.ContainerDir(id))
	os.Remove(filepath.Join(d.cfg.LogDir, id+".log"))
}

func (d *Driver) known(op, id string) error { return d.c.Known(op, id) }

// status asks runsc; a container whose exit is recorded is stopped.
func (d *Driver) status(ctx context.Context, id string) driver.Status {
	if monitor.ReadExit(d.layout.ContainerDir(id)) != nil {
		return driver.StatusStopped
	}
	st, err := d.cfg.runtime().State(ctx, id)
	if err != nil {
		return driver.StatusStopped
	}
	switch st.Status {
	case "created":
		return driver.StatusCreated
	case "running":
		return driver.StatusRunning
	case "paused":
		return driver.StatusPaused
	}
	return driver.StatusStopped
}

// Start lets the created workload run.
func (d *Driver) Start(ctx context.Context, id string) error {
	// Whether the container is still "created" is decided from its
	// directory, not by `runsc state` (a start of runsc's binary, ~17 ms):
	// exit.json means it ended, the started marker that a Start has run.
	unlock := d.events.Lock(id, "")
	defer unlock()
	undo, err := d.c.MarkStarted(id)
	if err != nil {
		return err
	}
	// runsc sets the sandbox's network up at start: same --network as at
	// create.
	bundle := filepath.Join(d.layout.ContainerDir(id), "bundle")
	if isMember(d.layout.ContainerDir(id)) {
		if err := d.startMember(ctx, id); err != nil {
			undo()
			return err
		}
		d.events.Note(driver.EventStart, id)
		return nil
	}
	if err := d.cfg.forBundle(bundle).runtime().Start(ctx, id); err != nil {
		undo()
		return startError(id, err)
	}
	d.events.Note(driver.EventStart, id)
	return nil
}

// startError classifies a failed `runsc start` whose command cannot be
// run, in docker's classes as the linux driver does (commandError).
func startError(id string, err error) error { return commandError("start "+id, err) }

// commandError classifies runsc's failure to run a command (of the init, or
// of an exec): not found (NotFound, rtd exits 127) or found but not
// runnable (PermissionDenied, 126: a directory, no execute permission, not
// an executable format). runsc's words are all it reports: "error finding
// executable" (a name looked up in PATH), "failed to load PATH: ERRNO" (a
// path). Other errors are returned as they are.
func commandError(what string, err error) error {
	msg := err.Error()
	if !strings.Contains(msg, "failed to load") && !strings.Contains(msg, "error finding executable") {
		return err
	}
	switch {
	case strings.Contains(msg, "no such file or directory"), strings.Contains(msg, "not a directory"):
		return driver.NotFoundf("%s: the command was not found: %v", what, err)
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "is a directory"), strings.Contains(msg, "exec format error"):
		return driver.PermissionDeniedf("%s: the command cannot be executed: %v", what, err)
	}
	return driver.InvalidArgumentf("%s: %v", what, err)
}

// State reports the container from disk and runsc.
func (d *Driver) State(ctx context.Context, id string) (*driver.State, error) {
	st, _, err := d.c.Record("state", id)
	if err != nil {
		return nil, err
	}
	if st.Exit == nil {
		// A dead monitor's sandbox is killed and its exit recorded.
		st.Exit = monitor.Check(ctx, d.layout, id, "")
	}
	st.Status = d.status(ctx, id)
	return st, nil
}

// Wait returns the recorded exit status once there is one.
func (d *Driver) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	return d.c.Wait(ctx, req)
}

// Kill signals the container through runsc. runsc cannot signal a created
// container, so SIGKILL then kills its sandbox process instead.
func (d *Driver) Kill(ctx context.Context, req *driver.KillRequest) error {
	if err := monitor.CheckSignal(req); err != nil {
		return err
	}
	if req.ExecID != "" {
		// The monitor's child is `runsc exec`, which forwards signals to
		// the process in the sandbox.
		return d.c.KillExec(ctx, req)
	}
	if err := d.known("kill", req.ID); err != nil {
		return err
	}
	sig := syscall.Signal(req.Signal)
	switch d.status(ctx, req.ID) {
	case driver.StatusStopped:
		return driver.FailedPreconditionf("kill %s: container is not running", req.ID)
	case driver.StatusCreated:
		if sig != syscall.SIGKILL {
			return driver.FailedPreconditionf("kill %s: gvisor cannot signal a created container; start it, or kill it with SIGKILL", req.ID)
		}
		rec, err := monitor.ReadPidRecord(d.layout.ContainerDir(req.ID))
		if err != nil || !rec.Alive() {
			return driver.FailedPreconditionf("kill %s: sandbox is gone", req.ID)
		}
		return syscall.Kill(rec.Pid, syscall.SIGKILL)
	}
	return d.cfg.runtime().Kill(ctx, req.ID, int(sig), req.All)
}

// Delete removes a stopped container (Force kills it first) and everything
// kept for it.
func (d *Driver) Delete(ctx context.Context, req *driver.DeleteRequest) (*driver.ExitStatus, error) {
	if err := d.known("delete", req.ID); err != nil {
		return nil, err
	}
	// A starting monitor holds this lock until its workload is registered
	// (the driver may have died during Create).
	unlock, err := d.c.LockForDelete(ctx, req.ID, deleteKillTimeout)
	if err != nil {
		return nil, err
	}
	defer unlock()
	monitor.Check(ctx, d.layout, req.ID, "")
	if s := d.status(ctx, req.ID); s != driver.StatusStopped {
		if !req.Force {
			return nil, driver.FailedPreconditionf("delete %s: container is %s; kill it first or force", req.ID, s)
		}
		d.forceKill(ctx, req.ID, s)
	}
	wctx, cancel := context.WithTimeout(ctx, deleteKillTimeout)
	defer cancel()
	exit, err := monitor.Wait(wctx, d.layout, req.ID, "")
	if err != nil {
		return nil, driver.Unavailablef("delete %s: sandbox did not end: %v", req.ID, err)
	}
	d.c.WaitExecs(wctx, req.ID)
	// The sandbox has exited: a plain delete is enough and takes ~20 ms,
	// where --force spends a second waiting for what is already gone.
	rt := d.cfg.runtime()
	if err := rt.Delete(ctx, req.ID, false); err != nil && !errdefs.IsNotFound(err) {
		if err := rt.Delete(ctx, req.ID, true); err != nil && !errdefs.IsNotFound(err) {
			d.log.Warn("runsc delete", "id", req.ID, "error", err)
		}
	}
	if err := d.events.Deleted(req.ID, exit); err != nil {
		d.log.Warn("events", "id", req.ID, "error", err)
	}
	d.removeFiles(req.ID)
	return exit, nil
}

// forceKill kills a container that is s for a forced Delete: a started
// sub-container through runsc (its recorded pid is its waiter's, which
// ends with it), anything else by killing its recorded process (the
// sandbox, or the waiter of a created sub-container).
func (d *Driver) forceKill(ctx context.Context, id string, s driver.Status) {
	if s != driver.StatusCreated && isMember(d.layout.ContainerDir(id)) {
		if err := d.cfg.runtime().Kill(ctx, id, int(syscall.SIGKILL), true); err == nil {
			return
		}
	}
	if rec, err := monitor.ReadPidRecord(d.layout.ContainerDir(id)); err == nil && rec.Alive() {
		_ = syscall.Kill(rec.Pid, syscall.SIGKILL)
	}
}

// isMember reports whether the container in dir was created in a sandbox.
func isMember(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, startFifo))
	return err == nil
}

// List returns every container the driver knows.
func (d *Driver) List(ctx context.Context) ([]*driver.State, error) {
	return d.c.List(ctx, d.State)
}
