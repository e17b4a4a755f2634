package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
)

// Plugin is a driver executable and, once used, its running driver
// process. A process that died is relaunched on the next call; Retry also
// repeats a call that is harmless to repeat once after relaunching. It is
// not a driver.Driver: it routes the calls rtd makes, with rtd's retry and
// error rules. Safe for concurrent use.
type Plugin struct {
	Name string
	Path string

	core *Core
	mu   sync.Mutex
	proc DriverProcess
	warm *driver.WarmClient // when proc is a warm driver's (warm.go)
}

// DriverProcess is the running driver behind a Plugin: a process this core
// launched (driver.Process), or a warm driver it connected to (warm.go).
type DriverProcess interface {
	Client() *driver.Client
	Pid() int
	Exited() bool
	LastLogLines() []string
	// Close ends a launched process; a warm driver only loses this
	// connection.
	Close()
}

// Driver returns the driver named nameOrPath (a name on the search path or
// a path to an executable), launched on first use. Drivers are shared per
// executable path within a Core.
func (c *Core) Driver(ctx context.Context, nameOrPath string) (*Plugin, error) {
	bin, err := c.FindDriver(nameOrPath)
	if err != nil {
		return nil, err
	}
	return c.driverFor(bin), nil
}

// DriverOf returns the driver that created rec: the recorded executable if
// it is still there, else the driver of the same name on the search path.
// A record is used only from a root that passes CheckRoot, and only when
// its directory and file pass the same check.
func (c *Core) DriverOf(rec *Record) (*Plugin, error) {
	if err := c.CheckRoot(); err != nil {
		return nil, err
	}
	if err := checkRecordOwnership(c.root, c.ContainerDir(rec.ID)); err != nil {
		return nil, fmt.Errorf("container %s: %w", rec.ID, err)
	}
	if rec.DriverPath != "" && isExecutable(rec.DriverPath) {
		return c.driverFor(DriverBinary{Name: rec.Driver, Path: rec.DriverPath}), nil
	}
	bin, err := c.FindDriver(rec.Driver)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", rec.ID, err)
	}
	return c.driverFor(bin), nil
}

func (c *Core) driverFor(bin DriverBinary) *Plugin {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.drivers[bin.Path]; ok {
		return d
	}
	d := &Plugin{Name: bin.Name, Path: bin.Path, core: c}
	c.drivers[bin.Path] = d
	return d
}

// Process returns the driver process, launching it when it is not running
// (first use, or it died).
func (d *Plugin) Process(ctx context.Context) (DriverProcess, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc != nil && !d.proc.Exited() {
		return d.proc, nil
	}
	if d.proc != nil {
		d.core.logger.Info("driver process exited; relaunching", "driver", d.Name, "pid", d.proc.Pid(),
			"last_log_lines", strings.Join(d.proc.LastLogLines(), " | "))
		d.closeLocked()
	}
	stateDir := d.core.DriverStateDir(d.Name)
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, driver.Unavailablef("driver %q: create state directory: %v", d.Name, err)
	}
	opts := driver.LaunchOptions{
		Name:         d.Name,
		Logger:       pluginLogger{d.core.logger},
		StateDir:     stateDir,
		SocketDir:    d.core.socketDir(),
		StartTimeout: d.core.startTimeout,
	}
	if w, ok, err := d.launchWarm(ctx, opts); ok {
		return w, err
	}
	p, err := driver.Launch(ctx, d.Path, opts)
	if err != nil {
		return nil, err
	}
	d.proc = p
	return p, nil
}

// Close ends the driver process, if it runs; containers keep running.
func (d *Plugin) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closeLocked()
}

// closeLocked closes the process handle: a launched driver process ends, a
// warm one only loses this connection.
func (d *Plugin) closeLocked() {
	if d.proc != nil {
		d.proc.Close()
	}
	d.proc, d.warm = nil, nil
}

// Do runs fn with a running client (launching it if needed), once.
func (d *Plugin) Do(ctx context.Context, fn func(*driver.Client) error) error {
	p, err := d.Process(ctx)
	if err != nil {
		return err
	}
	return fn(p.Client())
}

// Retry runs fn like Do and, when it fails because the driver process died
// (Unavailable and the process has exited), relaunches the driver and runs
// fn once more. Use it only for calls whose repetition does no harm: reads
// (Info, State, Wait, List, Pids, Stats), Delete (a second Delete of a
// container the first one removed answers NotFound) and Kill (the first
// attempt may have delivered the signal before the driver died, so the
// container can get it twice: acceptable for the stop signals rtd sends,
// and better than losing a kill). Create, Start and Exec use Do: running
// them twice would start a second process.
func (d *Plugin) Retry(ctx context.Context, fn func(*driver.Client) error) error {
	p, err := d.Process(ctx)
	if err != nil {
		return err
	}
	err = fn(p.Client())
	if err == nil || !errdefs.IsUnavailable(err) || !d.exitedAfterError(p) || ctx.Err() != nil {
		return err
	}
	d.core.logger.Warn("driver process died during a call; relaunching and retrying", "driver", d.Name, "error", err)
	p2, lerr := d.Process(ctx)
	if lerr != nil {
		return errors.Join(err, lerr)
	}
	return fn(p2.Client())
}

// Info asks the driver to describe itself and probe the host.
func (d *Plugin) Info(ctx context.Context) (info *driver.Info, err error) {
	err = d.Retry(ctx, func(cl *driver.Client) error { info, err = cl.Info(ctx); return err })
	return info, err
}

// ProcessError is a driver's answer to creating, starting or exec'ing a
// container's process (Create, Start, Exec; not a failure to launch the
// driver). Its errdefs class says why the process did not start, and gives
// rtd's exit code as docker's: NotFound, the command was not found (127);
// PermissionDenied, it cannot be executed (126); anything else, 125.
type ProcessError struct{ Err error }

func (e ProcessError) Error() string { return e.Err.Error() }
func (e ProcessError) Unwrap() error { return e.Err }

func processError(err error) error {
	if err == nil {
		return nil
	}
	return ProcessError{Err: err}
}

// startError is processError for a call on an existing container (Start,
// Exec): NotFound there means the command only if the driver still knows
// the container; a container the driver lost is not the command's fault.
func startError(ctx context.Context, cl *driver.Client, id string, err error) error {
	if errdefs.IsNotFound(err) {
		if _, serr := cl.State(ctx, id); errdefs.IsNotFound(serr) {
			return err
		}
	}
	return processError(err)
}

// Create creates a container (not retried); the driver's refusal is a
// ProcessError.
func (d *Plugin) Create(ctx context.Context, req *driver.CreateRequest) (resp *driver.CreateResponse, err error) {
	err = d.Do(ctx, func(cl *driver.Client) error { resp, err = cl.Create(ctx, req); return processError(err) })
	return resp, err
}

// Start starts a created container (not retried); the driver's refusal is
// a ProcessError.
func (d *Plugin) Start(ctx context.Context, id string) error {
	return d.Do(ctx, func(cl *driver.Client) error { return startError(ctx, cl, id, cl.Start(ctx, id)) })
}

// State returns a container's state, retried through a driver relaunch.
func (d *Plugin) State(ctx context.Context, id string) (st *driver.State, err error) {
	err = d.Retry(ctx, func(cl *driver.Client) error { st, err = cl.State(ctx, id); return err })
	return st, err
}

// Wait waits for a process to end, retried through a driver relaunch.
func (d *Plugin) Wait(ctx context.Context, req *driver.WaitRequest) (st *driver.ExitStatus, err error) {
	err = d.Retry(ctx, func(cl *driver.Client) error { st, err = cl.Wait(ctx, req); return err })
	return st, err
}

// Kill signals a container, retried through a driver relaunch.
func (d *Plugin) Kill(ctx context.Context, req *driver.KillRequest) error {
	return d.Retry(ctx, func(cl *driver.Client) error { return cl.Kill(ctx, req) })
}

// Delete deletes a container, retried through a driver relaunch.
func (d *Plugin) Delete(ctx context.Context, req *driver.DeleteRequest) (st *driver.ExitStatus, err error) {
	err = d.Retry(ctx, func(cl *driver.Client) error { st, err = cl.Delete(ctx, req); return err })
	return st, err
}

// List lists the driver's containers, retried through a driver relaunch.
func (d *Plugin) List(ctx context.Context) (sts []*driver.State, err error) {
	err = d.Retry(ctx, func(cl *driver.Client) error { sts, err = cl.List(ctx); return err })
	return sts, err
}

// Exec starts a process in a container (not retried); the driver's refusal
// is a ProcessError.
func (d *Plugin) Exec(ctx context.Context, req *driver.ExecRequest) (resp *driver.ExecResponse, err error) {
	err = d.Do(ctx, func(cl *driver.Client) error { resp, err = cl.Exec(ctx, req); return startError(ctx, cl, req.ID, err) })
	return resp, err
}

// ResizePty resizes a container's terminal.
func (d *Plugin) ResizePty(ctx context.Context, req *driver.ResizePtyRequest) error {
	return d.Do(ctx, func(cl *driver.Client) error { return cl.ResizePty(ctx, req) })
}

// CloseIO closes a process's stdin.
func (d *Plugin) CloseIO(ctx context.Context, req *driver.CloseIORequest) error {
	return d.Do(ctx, func(cl *driver.Client) error { return cl.CloseIO(ctx, req) })
}
