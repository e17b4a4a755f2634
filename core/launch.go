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

// StateDirEnv names the environment variable that gives a driver its state
// directory (<root>/drivers/<name>).
const StateDirEnv = driver.StateDirEnv

// Driver is a driver executable and, once used, its running process. A
// driver process that died is relaunched on the next call; Retry also
// repeats an idempotent call once after relaunching. Safe for concurrent use.
type Driver struct {
	Name string
	Path string

	core   *Core
	mu     sync.Mutex
	client *driver.Client
	warm   *driver.WarmClient // when client is a warm driver's (warm.go)
}

// Driver returns the driver named nameOrPath (a name on the search path or
// a path to an executable), launched on first use. Drivers are shared per
// executable path within a Core.
func (c *Core) Driver(ctx context.Context, nameOrPath string) (*Driver, error) {
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
func (c *Core) DriverOf(rec *Record) (*Driver, error) {
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

func (c *Core) driverFor(bin DriverBinary) *Driver {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.drivers[bin.Path]; ok {
		return d
	}
	d := &Driver{Name: bin.Name, Path: bin.Path, core: c}
	c.drivers[bin.Path] = d
	return d
}

// Client returns the driver's client, launching the process when it is not
// running (first use, or it died).
func (d *Driver) Client(ctx context.Context) (*driver.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.client != nil && !d.exited(d.client) {
		return d.client, nil
	}
	if d.client != nil {
		d.core.logger.Info("driver process exited; relaunching", "driver", d.Name, "pid", d.pid(),
			"last_log_lines", strings.Join(d.lastLogLines(), " | "))
		d.closeLocked()
	}
	stateDir := d.core.DriverStateDir(d.Name)
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, driver.Unavailablef("driver %q: create state directory: %v", d.Name, err)
	}
	opts := driver.LaunchOptions{
		Name:         d.Name,
		Logger:       pluginLogger{d.core.logger},
		Env:          []string{StateDirEnv + "=" + stateDir},
		SocketDir:    d.core.socketDir(),
		StartTimeout: d.core.startTimeout,
	}
	if cl, ok, err := d.launchWarm(ctx, opts); ok {
		return cl, err
	}
	cl, err := driver.Launch(ctx, d.Path, opts)
	if err != nil {
		return nil, err
	}
	d.client = cl
	return cl, nil
}

// Close ends the driver process, if it runs; containers keep running.
func (d *Driver) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closeLocked()
}

// closeLocked closes the client: a launched driver process ends, a warm
// one only loses this connection.
func (d *Driver) closeLocked() {
	if d.warm != nil {
		d.warm.Close()
	} else if d.client != nil {
		d.client.Close()
	}
	d.client, d.warm = nil, nil
}

// Do runs fn with a running client (launching it if needed), once.
func (d *Driver) Do(ctx context.Context, fn func(*driver.Client) error) error {
	cl, err := d.Client(ctx)
	if err != nil {
		return err
	}
	return fn(cl)
}

// Retry runs fn like Do and, when it fails because the driver process died
// (Unavailable and the process has exited), relaunches the driver and runs
// fn once more. Only for idempotent calls: State, Wait, List, Kill, Delete.
func (d *Driver) Retry(ctx context.Context, fn func(*driver.Client) error) error {
	cl, err := d.Client(ctx)
	if err != nil {
		return err
	}
	err = fn(cl)
	if err == nil || !errdefs.IsUnavailable(err) || !d.exitedAfterError(cl) || ctx.Err() != nil {
		return err
	}
	d.core.logger.Warn("driver process died during a call; relaunching and retrying", "driver", d.Name, "error", err)
	cl2, lerr := d.Client(ctx)
	if lerr != nil {
		return errors.Join(err, lerr)
	}
	return fn(cl2)
}

// Info asks the driver to describe itself and probe the host.
func (d *Driver) Info(ctx context.Context) (info *driver.Info, err error) {
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
func (d *Driver) Create(ctx context.Context, req *driver.CreateRequest) (resp *driver.CreateResponse, err error) {
	err = d.Do(ctx, func(cl *driver.Client) error { resp, err = cl.Create(ctx, req); return processError(err) })
	return resp, err
}

// Start starts a created container (not retried); the driver's refusal is
// a ProcessError.
func (d *Driver) Start(ctx context.Context, id string) error {
	return d.Do(ctx, func(cl *driver.Client) error { return startError(ctx, cl, id, cl.Start(ctx, id)) })
}

// State returns a container's state, retried through a driver relaunch.
func (d *Driver) State(ctx context.Context, id string) (st *driver.State, err error) {
	err = d.Retry(ctx, func(cl *driver.Client) error { st, err = cl.State(ctx, id); return err })
	return st, err
}

// Wait waits for a process to end, retried through a driver relaunch.
func (d *Driver) Wait(ctx context.Context, req *driver.WaitRequest) (st *driver.ExitStatus, err error) {
	err = d.Retry(ctx, func(cl *driver.Client) error { st, err = cl.Wait(ctx, req); return err })
	return st, err
}

// Kill signals a container, retried through a driver relaunch.
func (d *Driver) Kill(ctx context.Context, req *driver.KillRequest) error {
	return d.Retry(ctx, func(cl *driver.Client) error { return cl.Kill(ctx, req) })
}

// Delete deletes a container, retried through a driver relaunch.
func (d *Driver) Delete(ctx context.Context, req *driver.DeleteRequest) (st *driver.ExitStatus, err error) {
	err = d.Retry(ctx, func(cl *driver.Client) error { st, err = cl.Delete(ctx, req); return err })
	return st, err
}

// List lists the driver's containers, retried through a driver relaunch.
func (d *Driver) List(ctx context.Context) (sts []*driver.State, err error) {
	err = d.Retry(ctx, func(cl *driver.Client) error { sts, err = cl.List(ctx); return err })
	return sts, err
}

// Exec starts a process in a container (not retried); the driver's refusal
// is a ProcessError.
func (d *Driver) Exec(ctx context.Context, req *driver.ExecRequest) (resp *driver.ExecResponse, err error) {
	err = d.Do(ctx, func(cl *driver.Client) error { resp, err = cl.Exec(ctx, req); return startError(ctx, cl, req.ID, err) })
	return resp, err
}

// ResizePty resizes a container's terminal.
func (d *Driver) ResizePty(ctx context.Context, req *driver.ResizePtyRequest) error {
	return d.Do(ctx, func(cl *driver.Client) error { return cl.ResizePty(ctx, req) })
}

// CloseIO closes a process's stdin.
func (d *Driver) CloseIO(ctx context.Context, req *driver.CloseIORequest) error {
	return d.Do(ctx, func(cl *driver.Client) error { return cl.CloseIO(ctx, req) })
}
