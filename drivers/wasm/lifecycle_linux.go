package wasm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/wasm/runner"
	"github.com/rtd-project/rtd/kit/atomicfile"
	"github.com/rtd-project/rtd/kit/monitor"
)

// deleteKillTimeout bounds how long a forced Delete waits for the runner.
const deleteKillTimeout = 15 * time.Second

// Create checks that the bundle runs a WebAssembly core module, writes what
// the runner needs and starts the container's monitor, which starts the
// runner; the runner compiles the module (or loads it from the cache) and
// waits for Start. Errors of the module (compile, imports, memory) come
// back from Create.
func (d *Driver) Create(ctx context.Context, req *driver.CreateRequest) (_ *driver.CreateResponse, retErr error) {
	bundle, spec, rootfs, err := d.c.Bundle(req)
	if err != nil {
		return nil, err
	}
	if req.Stdio.Terminal {
		return nil, driver.NotImplementedf("create %s: the wasm driver has no terminal support (WASI preview 1 has no tty)", req.ID)
	}
	if spec.Root == nil {
		spec.Root = &specs.Root{}
	}
	spec.Root.Path = rootfs
	prog, err := findModule(req.ID, spec)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(d.cacheDir(), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	dir, err := d.c.NewDir(req.ID, "")
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			d.destroy(req.ID)
		}
	}()
	cfg, err := newRunConfig(req.ID, dir, d.cacheDir(), spec, prog)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteJSON(filepath.Join(dir, runner.File), cfg, 0o600); err != nil {
		return nil, err
	}
	if err := unix.Mkfifo(filepath.Join(dir, runner.StartFifo), 0o600); err != nil {
		return nil, fmt.Errorf("create %s: start fifo: %w", req.ID, err)
	}
	r := monitor.Request{ID: req.ID, Bundle: bundle, Annotations: req.Annotations, Stdio: monitor.StdioOf(req.Stdio)}
	pid, err := d.c.Launch(ctx, dir, r)
	if err != nil {
		return nil, err
	}
	return &driver.CreateResponse{Pid: uint32(pid)}, nil
}

// destroy removes whatever a container left: runner, cgroup, dirs.
func (d *Driver) destroy(id string) {
	dir := d.layout.ContainerDir(id)
	if rec, err := monitor.ReadPidRecord(dir); err == nil && rec.Alive() {
		_ = syscall.Kill(rec.Pid, syscall.SIGKILL)
		ctx, cancel := context.WithTimeout(context.Background(), deleteKillTimeout)
		_, _ = monitor.Wait(ctx, d.layout, id, "")
		cancel()
	}
	var cfg runner.Config
	if atomicfile.ReadJSON(filepath.Join(dir, runner.File), &cfg) == nil {
		if err := removeCgroup(cfg.Cgroup); err != nil {
			d.log.Warn("remove cgroup", "id", id, "error", err)
		}
	}
	monitor.RemoveSockets(d.layout, id)
	os.RemoveAll(dir)
}

func (d *Driver) known(op, id string) error { return d.c.Known(op, id) }

// status is decided from the container dir: exit.json means stopped, the
// started marker running, else created; a runner that vanished without a
// recorded exit is stopped (Wait records that).
func (d *Driver) status(id string) driver.Status {
	dir := d.layout.ContainerDir(id)
	if monitor.ReadExit(dir) != nil {
		return driver.StatusStopped
	}
	if rec, err := monitor.ReadPidRecord(dir); err != nil || !rec.Alive() {
		return driver.StatusStopped
	}
	if d.c.Started(id) {
		return driver.StatusRunning
	}
	return driver.StatusCreated
}

// Start lets the runner run the module: it waits on the start FIFO.
func (d *Driver) Start(ctx context.Context, id string) error {
	if err := d.known("start", id); err != nil {
		return err
	}
	dir := d.layout.ContainerDir(id)
	if s := d.status(id); s != driver.StatusCreated {
		return driver.FailedPreconditionf("start %s: container is %s, not created", id, s)
	}
	undo, err := d.c.MarkStarted(id)
	if err != nil {
		return err
	}
	// The runner holds the FIFO open for reading before it reports ready,
	// so this open does not block; ENXIO means the runner is gone.
	fifo, err := os.OpenFile(filepath.Join(dir, runner.StartFifo), os.O_WRONLY|unix.O_NONBLOCK, 0)
	if err == nil {
		_, err = fifo.Write([]byte{1})
		fifo.Close()
	}
	if err != nil {
		undo()
		return driver.FailedPreconditionf("start %s: the runner is gone: %v", id, err)
	}
	return nil
}

// State reports the container from its dir.
func (d *Driver) State(ctx context.Context, id string) (*driver.State, error) {
	st, _, err := d.c.Record("state", id)
	if err != nil {
		return nil, err
	}
	st.Status = d.status(id)
	return st, nil
}

// Wait returns the recorded exit status once there is one.
func (d *Driver) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	if err := d.c.KnownInit("wait", req.ID, req.ExecID); err != nil {
		return nil, err
	}
	return monitor.Wait(ctx, d.layout, req.ID, "")
}

// Kill signals the runner through its monitor (its parent, so the pid is
// not reused). A created container can be signalled too: the runner
// waiting for Start ends as the signal says.
func (d *Driver) Kill(ctx context.Context, req *driver.KillRequest) error {
	if err := d.c.KillInit(req); err != nil {
		return err
	}
	if d.status(req.ID) == driver.StatusStopped {
		return driver.FailedPreconditionf("kill %s: container is not running", req.ID)
	}
	err := monitor.Signal(ctx, d.layout, req.ID, "", syscall.Signal(req.Signal))
	if errors.Is(err, monitor.ErrGone) || (err != nil && monitor.ReadExit(d.layout.ContainerDir(req.ID)) != nil) {
		return driver.FailedPreconditionf("kill %s: container is not running", req.ID)
	}
	return err
}

// CloseIO closes the module's stdin.
func (d *Driver) CloseIO(ctx context.Context, req *driver.CloseIORequest) error {
	if err := d.c.KnownInit("close io", req.ID, req.ExecID); err != nil {
		return err
	}
	return d.c.CloseIO(ctx, req)
}

// Delete removes a stopped container (Force kills it first) and everything
// kept for it: the runner's cgroup, the container dir.
func (d *Driver) Delete(ctx context.Context, req *driver.DeleteRequest) (*driver.ExitStatus, error) {
	if err := d.known("delete", req.ID); err != nil {
		return nil, err
	}
	dir := d.layout.ContainerDir(req.ID)
	if s := d.status(req.ID); s != driver.StatusStopped {
		if !req.Force {
			return nil, driver.FailedPreconditionf("delete %s: container is %s; kill it first or force", req.ID, s)
		}
		if rec, err := monitor.ReadPidRecord(dir); err == nil && rec.Alive() {
			_ = syscall.Kill(rec.Pid, syscall.SIGKILL)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, deleteKillTimeout)
	defer cancel()
	exit, err := monitor.Wait(wctx, d.layout, req.ID, "")
	if err != nil {
		return nil, driver.Unavailablef("delete %s: runner did not end: %v", req.ID, err)
	}
	d.destroy(req.ID)
	return exit, nil
}

// List returns every container the driver knows.
func (d *Driver) List(ctx context.Context) ([]*driver.State, error) {
	return d.c.List(ctx, d.State)
}
