//go:build linux

package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// Containers is the driver side of a monitor-based driver's lifecycle, the
// part every such driver repeats: check an id and find its container,
// load a bundle, make a process dir, write its request and spawn its
// monitor, read a container's state from its records, list them, start an
// exec under its own monitor, wait for a process and send its monitor
// control calls. What a driver does with its backend (start, kill, pause,
// delete) stays in the driver. A Containers holds no state of its own: a
// new driver process makes a new one over the same state directory.
type Containers struct {
	// Layout is the driver's state directory.
	Layout Layout
	// Exe is the binary a monitor is started from: the driver binary
	// itself (its main calls Main when IsMonitor), or a smaller one.
	Exe string
	// Name is the driver's name, for messages ("the wasm driver ...").
	Name string
	// LockProc, when set, locks a process dir (an event journal's lock):
	// Exec holds it from the moment the exec's dir exists until its
	// registered hook has run, so the exit it may cause is recorded after.
	LockProc func(id, execID string) (unlock func())
	// Spawn says how monitors are started (SpawnOptions).
	Spawn SpawnOptions
}

// Options are what every monitor-based driver is configured with; an
// in-tree driver's Options with the same fields converts to it
// (monitor.Options(opts)).
type Options struct {
	// StateDir holds the driver's state; default /run/rtd/drivers/NAME.
	StateDir string
	Logger   hclog.Logger
	// Version is reported by Info; default "dev".
	Version string
}

// Containers fills what o leaves empty for the driver named name and
// returns the Containers of its state directory, whose monitors are
// started from this binary (re-executed: the driver's main calls Main when
// IsMonitor).
func (o *Options) Containers(name string) *Containers {
	if o.StateDir == "" {
		o.StateDir = "/run/rtd/drivers/" + name
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	exe, err := os.Executable()
	if err != nil {
		exe = "/proc/self/exe"
	}
	return &Containers{Layout: Layout{Root: o.StateDir}, Exe: exe, Name: name}
}

// Known fails with NotFound unless container id has a process dir, and
// with InvalidArgument when id is not a valid id.
func (c *Containers) Known(op, id string) error {
	if err := driver.ValidateID("container id", id); err != nil {
		return err
	}
	if _, err := os.Stat(c.Layout.ContainerDir(id)); err != nil {
		return driver.NotFoundf("%s %s: no such container", op, id)
	}
	return nil
}

// KnownProc is Known for a process of the container (its init when execID
// is ""): it returns the process dir, NotFound when there is no such exec.
func (c *Containers) KnownProc(op, id, execID string) (string, error) {
	if err := c.Known(op, id); err != nil {
		return "", err
	}
	dir := c.Layout.ProcDir(id, execID)
	if _, err := os.Stat(dir); err != nil {
		return "", driver.NotFoundf("%s %s: no such exec %q", op, id, execID)
	}
	return dir, nil
}

// KnownInit is Known for a driver without exec (Name names it): an exec
// id is NotFound, as no exec exists.
func (c *Containers) KnownInit(op, id, execID string) error {
	if err := c.Known(op, id); err != nil {
		return err
	}
	if execID != "" {
		return driver.NotFoundf("%s %s: exec %q: the %s driver has no exec", op, id, execID, c.Name)
	}
	return nil
}

// KillInit is the prologue of Kill for a driver without exec: a valid
// signal (CheckSignal) to a known container's init (KnownInit).
func (c *Containers) KillInit(req *driver.KillRequest) error {
	if err := CheckSignal(req); err != nil {
		return err
	}
	return c.KnownInit("kill", req.ID, req.ExecID)
}

// Bundle checks the parts of a CreateRequest every monitor-based driver
// checks the same way: a valid id, no rootfs mounts (a bundle with a root
// directory), and a bundle whose spec loads (ocispec.Load) and passes
// ocispec.Check. It returns the absolute bundle path, the spec and the
// absolute rootfs path. Every failure is InvalidArgument and names the id.
func (c *Containers) Bundle(req *driver.CreateRequest) (bundle string, spec *specs.Spec, rootfs string, err error) {
	if err := driver.ValidateID("container id", req.ID); err != nil {
		return "", nil, "", err
	}
	if len(req.Rootfs) > 0 {
		return "", nil, "", driver.InvalidArgumentf("create %s: rootfs mounts are not supported by the %s driver; give a bundle whose root.path is a directory", req.ID, c.Name)
	}
	bundle, err = filepath.Abs(req.Bundle)
	if err != nil {
		return "", nil, "", driver.InvalidArgumentf("create %s: bundle %q: %v", req.ID, req.Bundle, err)
	}
	if spec, err = ocispec.Load(bundle); err == nil {
		rootfs, err = ocispec.Check(bundle, spec)
	}
	if err != nil {
		return "", nil, "", fmt.Errorf("create %s: %w", req.ID, err)
	}
	return bundle, spec, rootfs, nil
}

// NewDir makes the process dir of a new container (execID "") or exec:
// AlreadyExists when the id is taken. The caller removes it if what
// follows fails.
func (c *Containers) NewDir(id, execID string) (string, error) {
	dir := c.Layout.ProcDir(id, execID)
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", id, err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if !os.IsExist(err) {
			return "", fmt.Errorf("create %s: %w", id, err)
		}
		if execID != "" {
			return "", driver.AlreadyExistsf("exec %s: exec id %s is already in use", id, execID)
		}
		return "", driver.AlreadyExistsf("create %s: a container with this id already exists", id)
	}
	return dir, nil
}

// Launch writes r as the request.json of process dir dir (CreatedAt now
// when unset) and spawns its monitor; it returns the workload's pid. When
// ctx ends while the monitor starts, Launch fails with ctx's error and the
// monitor runs: the caller's rollback must remove it (as after any failed
// create).
func (c *Containers) Launch(ctx context.Context, dir string, r Request) (int, error) {
	if r.CreatedAt == 0 {
		r.CreatedAt = time.Now().UnixNano()
	}
	op := "create " + r.ID
	if r.ExecID != "" {
		op = "exec " + r.ID
	}
	if err := WriteRequest(dir, r); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	pid, err := Spawn(ctx, c.Exe, c.Layout, dir, c.Spawn)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		// The caller gave up (its deadline passed) while the monitor
		// started: it was told the call failed, so the call must leave
		// nothing. The driver's rollback removes the running monitor.
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return pid, nil
}

// StartedFile in a container's process dir marks that a Start ran for it.
const StartedFile = "started"

// MarkStarted is the first step of a Start for a backend that cannot tell
// "created" from "started" cheaply: it refuses a known container that has
// stopped (its exit is recorded) or was started already, and takes the
// started marker with O_EXCL, so of concurrent Starts exactly one goes on.
// undo removes the marker when the backend's start fails.
func (c *Containers) MarkStarted(id string) (undo func(), err error) {
	if err := c.Known("start", id); err != nil {
		return nil, err
	}
	dir := c.Layout.ContainerDir(id)
	if ReadExit(dir) != nil {
		return nil, driver.FailedPreconditionf("start %s: container is %s, not created", id, driver.StatusStopped)
	}
	marker := filepath.Join(dir, StartedFile)
	f, err := os.OpenFile(marker, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, driver.FailedPreconditionf("start %s: container was started already, it is not created", id)
	}
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", id, err)
	}
	f.Close()
	return func() { os.Remove(marker) }, nil
}

// Started reports whether MarkStarted ran for container id.
func (c *Containers) Started(id string) bool {
	_, err := os.Stat(filepath.Join(c.Layout.ContainerDir(id), StartedFile))
	return err == nil
}

// Record returns what the records of container id say: id, bundle,
// annotations, creation time, pid and the exit status when one is recorded
// (then Status is stopped, else unknown: the driver asks its backend), and
// the workload's pid record, nil while none is registered.
func (c *Containers) Record(op, id string) (*driver.State, *PidRecord, error) {
	if err := c.Known(op, id); err != nil {
		return nil, nil, err
	}
	dir := c.Layout.ContainerDir(id)
	req, err := ReadRequest(dir)
	if err != nil {
		return nil, nil, driver.NotFoundf("%s %s: container record unreadable: %v", op, id, err)
	}
	st := &driver.State{
		ID: id, Bundle: req.Bundle, Annotations: req.Annotations, Status: driver.StatusUnknown,
		CreatedAt: time.Unix(0, req.CreatedAt).UTC(), Exit: ReadExit(dir),
	}
	if st.Exit != nil {
		st.Status = driver.StatusStopped
	}
	rec, err := ReadPidRecord(dir)
	if err != nil {
		return st, nil, nil
	}
	st.Pid = uint32(rec.Pid)
	return st, &rec, nil
}

// List returns the state (by the driver's State) of every container in
// the state directory, oldest first; one deleted meanwhile is left out.
func (c *Containers) List(ctx context.Context, state func(ctx context.Context, id string) (*driver.State, error)) ([]*driver.State, error) {
	entries, err := os.ReadDir(c.Layout.ContainersDir())
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var out []*driver.State
	for _, e := range entries {
		if st, err := state(ctx, e.Name()); err == nil {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// CheckExec checks an ExecRequest's own fields: a valid exec id and a
// process with args (the driver checks that the container runs).
func (c *Containers) CheckExec(req *driver.ExecRequest) error {
	if err := driver.ValidateID("exec id", req.ExecID); err != nil {
		return err
	}
	if req.Process == nil || len(req.Process.Args) == 0 {
		return driver.InvalidArgumentf("exec %s: no process args", req.ID)
	}
	return nil
}

// KnownExec checks an ExecRequest before the driver looks at the
// container's state: a valid exec id (InvalidArgument, before anything
// else), a known container (Known: NotFound) and a process with args
// (CheckExec).
func (c *Containers) KnownExec(req *driver.ExecRequest) error {
	if err := driver.ValidateID("exec id", req.ExecID); err != nil {
		return err
	}
	if err := c.Known("exec", req.ID); err != nil {
		return err
	}
	return c.CheckExec(req)
}

// Exec starts an exec'd process under a monitor of its own: its process
// dir, its request (with the backend's part) and the monitor. registered,
// when not nil, runs once it started (a journal entry); when it fails, the
// process is killed and the exec undone. The caller checked the request
// (CheckExec) and the container's state.
func (c *Containers) Exec(ctx context.Context, req *driver.ExecRequest, backend json.RawMessage, registered func(pid int) error) (_ *driver.ExecResponse, retErr error) {
	dir, err := c.NewDir(req.ID, req.ExecID)
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			os.RemoveAll(dir)
		}
	}()
	if c.LockProc != nil {
		unlock := c.LockProc(req.ID, req.ExecID)
		defer unlock()
	}
	r := Request{ID: req.ID, ExecID: req.ExecID, Process: req.Process, Stdio: StdioOf(req.Stdio), Backend: backend}
	pid, err := c.Launch(ctx, dir, r)
	if err != nil {
		return nil, err
	}
	if registered != nil {
		if err := registered(pid); err != nil {
			_ = Signal(ctx, c.Layout, req.ID, req.ExecID, syscall.SIGKILL)
			_, _ = Wait(ctx, c.Layout, req.ID, req.ExecID)
			return nil, err
		}
	}
	return &driver.ExecResponse{Pid: uint32(pid)}, nil
}

// Wait is the contract's Wait: the recorded exit status of the process,
// once there is one (see Wait).
func (c *Containers) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	if _, err := c.KnownProc("wait", req.ID, req.ExecID); err != nil {
		return nil, err
	}
	return Wait(ctx, c.Layout, req.ID, req.ExecID)
}

// Control sends one call to the monitor of a live process: NotFound for
// an unknown container or exec, FailedPrecondition once the process has
// exited (or its monitor fails the call).
func (c *Containers) Control(op, id, execID string, call func() error) error {
	dir, err := c.KnownProc(op, id, execID)
	if err != nil {
		return err
	}
	if ReadExit(dir) != nil {
		return driver.FailedPreconditionf("%s %s: process has exited", op, id)
	}
	if err := call(); err != nil {
		if errors.Is(err, ErrGone) {
			return driver.FailedPreconditionf("%s %s: process has exited", op, id)
		}
		return driver.FailedPreconditionf("%s %s: %v", op, id, err)
	}
	return nil
}

// ResizePty is the contract's ResizePty, through the process's monitor.
func (c *Containers) ResizePty(ctx context.Context, req *driver.ResizePtyRequest) error {
	return c.Control("resize pty", req.ID, req.ExecID, func() error {
		return Resize(ctx, c.Layout, req.ID, req.ExecID, req.Width, req.Height)
	})
}

// CloseIO is the contract's CloseIO, through the process's monitor.
func (c *Containers) CloseIO(ctx context.Context, req *driver.CloseIORequest) error {
	return c.Control("close io", req.ID, req.ExecID, func() error {
		return CloseStdin(ctx, c.Layout, req.ID, req.ExecID)
	})
}

// KillExec signals an exec'd process through its monitor: FailedPrecondition
// once it has exited.
func (c *Containers) KillExec(ctx context.Context, req *driver.KillRequest) error {
	dir, err := c.KnownProc("kill", req.ID, req.ExecID)
	if err != nil {
		return err
	}
	if ReadExit(dir) != nil {
		return driver.FailedPreconditionf("kill %s: exec %s is not running", req.ID, req.ExecID)
	}
	err = Signal(ctx, c.Layout, req.ID, req.ExecID, syscall.Signal(req.Signal))
	if errors.Is(err, ErrGone) {
		return driver.FailedPreconditionf("kill %s: exec %s is not running", req.ID, req.ExecID)
	}
	if err != nil {
		return driver.FailedPreconditionf("kill %s: exec %s: %v", req.ID, req.ExecID, err)
	}
	return nil
}

// CheckSignal refuses a signal number that is no signal.
func CheckSignal(req *driver.KillRequest) error {
	if req.Signal == 0 || req.Signal > 64 {
		return driver.InvalidArgumentf("kill %s: invalid signal %d", req.ID, req.Signal)
	}
	return nil
}

// LockForDelete takes container id's process dir lock (LockDir), which a
// starting monitor holds until its workload is registered, waiting at most
// limit: NotFound when the container is gone, Unavailable when its
// monitor is still starting after that.
func (c *Containers) LockForDelete(ctx context.Context, id string, limit time.Duration) (func(), error) {
	lctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	unlock, err := LockDir(lctx, c.Layout.ContainerDir(id))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, driver.NotFoundf("delete %s: no such container", id)
		}
		return nil, driver.Unavailablef("delete %s: its monitor is still starting: %v", id, err)
	}
	return unlock, nil
}

// WaitExecs waits (until ctx is done) for the exit records of the
// container's exec'd processes, which end with it, so that no monitor is
// left behind.
func (c *Containers) WaitExecs(ctx context.Context, id string) {
	for _, e := range c.Layout.ExecIDs(id) {
		_, _ = Wait(ctx, c.Layout, id, e)
	}
}

// Remove removes what the monitors kept for container id: control sockets
// and the process dirs, then waits (until ctx is done) for its monitor to
// exit (RemoveProcDir).
func (c *Containers) Remove(ctx context.Context, id string) error {
	RemoveSockets(c.Layout, id)
	return RemoveProcDir(ctx, c.Layout.ContainerDir(id))
}
