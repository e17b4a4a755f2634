package gvisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/monitor"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// deleteKillTimeout bounds how long a forced Delete waits for the sandbox.
const deleteKillTimeout = 15 * time.Second

// Create checks the bundle, refuses a duplicate id itself (runsc destroys
// the existing container when a duplicate create fails) and starts a
// monitor that runs `runsc create`.
func (d *Driver) Create(ctx context.Context, req *driver.CreateRequest) (_ *driver.CreateResponse, retErr error) {
	if err := monitor.ValidateID("container id", req.ID); err != nil {
		return nil, err
	}
	if len(req.Rootfs) > 0 {
		return nil, driver.InvalidArgumentf("create %s: rootfs mounts are not supported by the gvisor driver; give a bundle whose root.path is a directory", req.ID)
	}
	bundle, err := filepath.Abs(req.Bundle)
	if err != nil {
		return nil, driver.InvalidArgumentf("create %s: bundle %q: %v", req.ID, req.Bundle, err)
	}
	spec, err := loadSpec(bundle)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	if !filepath.IsAbs(spec.Root.Path) {
		spec.Root.Path = filepath.Join(bundle, spec.Root.Path)
	}
	if fi, err := os.Stat(spec.Root.Path); err != nil || !fi.IsDir() {
		return nil, driver.InvalidArgumentf("create %s: rootfs %s: not a directory", req.ID, spec.Root.Path)
	}
	if msg := ocispec.CheckRootfs(spec.Root.Path); msg != "" {
		return nil, driver.InvalidArgumentf("create %s: %s", req.ID, msg)
	}
	if err := adaptSpec(d.layout.Root, req.ID, spec); err != nil {
		return nil, err
	}
	for _, dir := range []string{d.layout.ContainersDir(), d.cfg.Root, d.cfg.LogDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", req.ID, err)
		}
	}
	dir := d.layout.ContainerDir(req.ID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if os.IsExist(err) {
			return nil, driver.AlreadyExistsf("create %s: a container with this id already exists", req.ID)
		}
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
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
	if err := monitor.WriteJSONAtomic(filepath.Join(private, "config.json"), spec); err != nil {
		return nil, err
	}
	unlock := d.events.Lock(req.ID, "")
	defer unlock()
	r := monitor.Request{
		ID: req.ID, Bundle: private, Annotations: req.Annotations, Stdio: monitor.StdioOf(req.Stdio),
		CreatedAt: time.Now().UnixNano(), Backend: d.backendRequest(),
	}
	if err := monitor.WriteJSONAtomic(filepath.Join(dir, "request.json"), r); err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	pid, err := monitor.Spawn(d.exe, d.layout, dir)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	if err := d.events.Record(driver.Event{Type: driver.EventCreate, ID: req.ID, Pid: uint32(pid)}); err != nil {
		return nil, err
	}
	return &driver.CreateResponse{Pid: uint32(pid)}, nil
}

// loadSpec reads and checks BUNDLE/config.json.
func loadSpec(bundle string) (*specs.Spec, error) {
	path := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, driver.InvalidArgumentf("bundle %s: %v", bundle, err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, driver.InvalidArgumentf("%s: malformed: %v", path, err)
	}
	if spec.Process == nil || len(spec.Process.Args) == 0 {
		return nil, driver.InvalidArgumentf("%s: no process args", path)
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return nil, driver.InvalidArgumentf("%s: no root.path", path)
	}
	return &spec, nil
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
	// inside the pod's sandbox; the driver runs one sandbox per container
	// (pods in one sandbox need sandboxes in the contract).
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

func (d *Driver) known(op, id string) error {
	if err := monitor.ValidateID("container id", id); err != nil {
		return err
	}
	if _, err := os.Stat(d.layout.ContainerDir(id)); err != nil {
		return driver.NotFoundf("%s %s: no such container", op, id)
	}
	return nil
}

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
	if err := d.known("start", id); err != nil {
		return err
	}
	// Whether the container is still "created" is decided from its
	// directory, not by `runsc state` (a start of runsc's binary, ~17 ms):
	// exit.json means it ended, the started marker that a Start has run. The
	// marker is taken with O_EXCL, so of concurrent Starts exactly one runs.
	dir := d.layout.ContainerDir(id)
	unlock := d.events.Lock(id, "")
	defer unlock()
	if monitor.ReadExit(dir) != nil {
		return driver.FailedPreconditionf("start %s: container is %s, not created", id, driver.StatusStopped)
	}
	marker := filepath.Join(dir, startedFile)
	f, err := os.OpenFile(marker, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return driver.FailedPreconditionf("start %s: container was started already, it is not created", id)
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	f.Close()
	// runsc sets the sandbox's network up at start: same --network as at
	// create.
	err = d.cfg.forBundle(filepath.Join(dir, "bundle")).runtime().Start(ctx, id)
	if err != nil {
		os.Remove(marker)
		return startError(id, err)
	}
	d.record(driver.EventStart, id)
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

// startedFile in a container dir marks that Start ran for it.
const startedFile = "started"

// State reports the container from disk and runsc.
func (d *Driver) State(ctx context.Context, id string) (*driver.State, error) {
	if err := d.known("state", id); err != nil {
		return nil, err
	}
	dir := d.layout.ContainerDir(id)
	var req monitor.Request
	if err := monitor.ReadJSON(filepath.Join(dir, "request.json"), &req); err != nil {
		return nil, driver.NotFoundf("state %s: container record unreadable: %v", id, err)
	}
	st := &driver.State{
		ID: id, Bundle: req.Bundle, Annotations: req.Annotations,
		CreatedAt: time.Unix(0, req.CreatedAt).UTC(), Exit: monitor.ReadExit(dir),
	}
	if st.Exit == nil {
		// A dead monitor's sandbox is killed and its exit recorded.
		st.Exit = monitor.Check(ctx, d.layout, id, "")
	}
	if rec, err := monitor.ReadPidRecord(dir); err == nil {
		st.Pid = uint32(rec.Pid)
	}
	st.Status = d.status(ctx, id)
	return st, nil
}

// Wait returns the recorded exit status once there is one.
func (d *Driver) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	if err := d.known("wait", req.ID); err != nil {
		return nil, err
	}
	if _, err := os.Stat(d.layout.ProcDir(req.ID, req.ExecID)); err != nil {
		return nil, driver.NotFoundf("wait %s: no such exec %q", req.ID, req.ExecID)
	}
	return monitor.Wait(ctx, d.layout, req.ID, req.ExecID)
}

// Kill signals the container through runsc. runsc cannot signal a created
// container, so SIGKILL then kills its sandbox process instead.
func (d *Driver) Kill(ctx context.Context, req *driver.KillRequest) error {
	if req.Signal == 0 || req.Signal > 64 {
		return driver.InvalidArgumentf("kill %s: invalid signal %d", req.ID, req.Signal)
	}
	if err := d.known("kill", req.ID); err != nil {
		return err
	}
	sig := syscall.Signal(req.Signal)
	if req.ExecID != "" {
		if monitor.ReadExit(d.layout.ProcDir(req.ID, req.ExecID)) != nil {
			return driver.FailedPreconditionf("kill %s: exec %s is not running", req.ID, req.ExecID)
		}
		return d.killExec(ctx, req.ID, req.ExecID, sig)
	}
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

// killExec signals an exec'd process inside the sandbox by its pid there.
func (d *Driver) killExec(ctx context.Context, id, execID string, sig syscall.Signal) error {
	// The monitor's child is `runsc exec`, which forwards signals to the
	// process in the sandbox.
	err := monitor.Signal(ctx, d.layout, id, execID, sig)
	if errors.Is(err, monitor.ErrGone) {
		return driver.FailedPreconditionf("kill %s: exec %s is not running", id, execID)
	}
	return err
}

// Delete removes a stopped container (Force kills it first) and everything
// kept for it.
func (d *Driver) Delete(ctx context.Context, req *driver.DeleteRequest) (*driver.ExitStatus, error) {
	if err := d.known("delete", req.ID); err != nil {
		return nil, err
	}
	// A starting monitor holds this lock until its workload is registered
	// (the driver may have died during Create).
	lctx, lcancel := context.WithTimeout(ctx, deleteKillTimeout)
	unlock, err := monitor.LockDir(lctx, d.layout.ContainerDir(req.ID))
	lcancel()
	if err != nil {
		if os.IsNotExist(err) {
			return nil, driver.NotFoundf("delete %s: container", req.ID)
		}
		return nil, driver.Unavailablef("delete %s: its monitor is still starting: %v", req.ID, err)
	}
	defer unlock()
	monitor.Check(ctx, d.layout, req.ID, "")
	if s := d.status(ctx, req.ID); s != driver.StatusStopped {
		if !req.Force {
			return nil, driver.FailedPreconditionf("delete %s: container is %s; kill it first or force", req.ID, s)
		}
		if rec, err := monitor.ReadPidRecord(d.layout.ContainerDir(req.ID)); err == nil && rec.Alive() {
			_ = syscall.Kill(rec.Pid, syscall.SIGKILL)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, deleteKillTimeout)
	defer cancel()
	exit, err := monitor.Wait(wctx, d.layout, req.ID, "")
	if err != nil {
		return nil, driver.Unavailablef("delete %s: sandbox did not end: %v", req.ID, err)
	}
	for _, e := range d.layout.ExecIDs(req.ID) {
		_, _ = monitor.Wait(wctx, d.layout, req.ID, e)
	}
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

// List returns every container the driver knows.
func (d *Driver) List(ctx context.Context) ([]*driver.State, error) {
	entries, err := os.ReadDir(d.layout.ContainersDir())
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var out []*driver.State
	for _, e := range entries {
		if st, err := d.State(ctx, e.Name()); err == nil {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}
