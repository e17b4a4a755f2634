//go:build freebsd

package freebsd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/ocicli"
)

// Driver runs FreeBSD jails through runj. UNVERIFIED: compiled and vetted
// for freebsd, never run on a FreeBSD host; its engine is tested on Linux
// against runc.
type Driver struct {
	driver.Unimplemented // exec, pty, pause, stats, ... are not offered
	version              string
	stateDir             string
	eng                  *engine
	// notReady says why eng is nil.
	notReady string
}

var _ driver.Driver = (*Driver)(nil)

// New returns a freebsd driver. What it cannot set up (runj missing, not
// root) does not fail here: Info reports it as the reason it is not ready
// and every call fails with Unavailable.
func New(opts Options) *Driver {
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if opts.StateDir == "" {
		opts.StateDir = "/var/run/rtd/drivers/freebsd"
	}
	if opts.Runj == "" {
		opts.Runj = "runj"
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	d := &Driver{version: opts.Version, stateDir: opts.StateDir}
	// runj has no --root: its state lives in /var/lib/runj, shared by all
	// its callers, so the driver lists only the containers it recorded.
	rt, err := ocicli.New("runj", opts.Runj, "")
	switch {
	case err != nil:
		d.notReady = err.Error()
	case os.Geteuid() != 0:
		d.notReady = "must run as root: runj creates jails and mounts file systems"
	default:
		if _, err := exec.LookPath("runj-entrypoint"); err != nil {
			d.notReady = "runj-entrypoint not found in PATH: install it with runj (it starts the jailed process)"
		} else if d.eng, err = newEngine(rt, opts.StateDir, log); err != nil {
			d.notReady = err.Error()
		}
	}
	return d
}

// Info describes the driver and probes the host.
func (d *Driver) Info(ctx context.Context) (*driver.Info, error) {
	h := driver.Health{Ready: d.eng != nil, Reason: d.notReady}
	if d.eng != nil {
		if err := os.MkdirAll(filepath.Join(d.stateDir, "containers"), 0o700); err != nil {
			h = driver.Health{Reason: fmt.Sprintf("state dir %s is not writable: %v", d.stateDir, err)}
		}
	}
	i := info(d.version, h)
	if d.eng != nil {
		i.Isolation.Platform = "FreeBSD jail (runj at " + d.eng.rt.Binary + ")"
	}
	return i, nil
}

func (d *Driver) ready(op string) error {
	if d.eng == nil {
		return driver.Unavailablef("%s: freebsd driver not ready: %s", op, d.notReady)
	}
	return nil
}

// Create creates a jail through `runj create`; the workload waits for Start.
func (d *Driver) Create(ctx context.Context, req *driver.CreateRequest) (*driver.CreateResponse, error) {
	if err := d.ready("create"); err != nil {
		return nil, err
	}
	return d.eng.create(ctx, req)
}

// Start runs the workload (`runj start`).
func (d *Driver) Start(ctx context.Context, id string) error {
	if err := d.ready("start"); err != nil {
		return err
	}
	return d.eng.start(ctx, id)
}

// State reports the container's status.
func (d *Driver) State(ctx context.Context, id string) (*driver.State, error) {
	if err := d.ready("state"); err != nil {
		return nil, err
	}
	return d.eng.state(ctx, id)
}

// Wait blocks until the container's init has ended.
func (d *Driver) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	if err := d.ready("wait"); err != nil {
		return nil, err
	}
	return d.eng.wait(ctx, req)
}

// Kill signals the container's init, or every process with All.
func (d *Driver) Kill(ctx context.Context, req *driver.KillRequest) error {
	if err := d.ready("kill"); err != nil {
		return err
	}
	return d.eng.kill(ctx, req)
}

// Delete removes a stopped container; Force kills it first.
func (d *Driver) Delete(ctx context.Context, req *driver.DeleteRequest) (*driver.ExitStatus, error) {
	if err := d.ready("delete"); err != nil {
		return nil, err
	}
	return d.eng.delete(ctx, req)
}

// List returns the containers this driver created.
func (d *Driver) List(ctx context.Context) ([]*driver.State, error) {
	if err := d.ready("list"); err != nil {
		return nil, err
	}
	return d.eng.list(ctx)
}
