package linux

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	lc "github.com/opencontainers/runc/libcontainer"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/linux/lcmon"
	"github.com/rtd-project/rtd/kit/monitor"
)

// Create starts a monitor that creates the container; the workload waits
// for Start.
func (d *Driver) Create(ctx context.Context, req *driver.CreateRequest) (_ *driver.CreateResponse, retErr error) {
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
			d.rollback(req.ID, dir)
		}
	}()
	unlock := d.events.Lock(req.ID, "")
	defer unlock()
	r := monitor.Request{ID: req.ID, Bundle: bundle, Annotations: req.Annotations, Stdio: monitor.StdioOf(req.Stdio)}
	if req.SandboxID != "" {
		if r.Backend, err = d.joinSandbox(req.ID, req.SandboxID); err != nil {
			return nil, err
		}
	}
	pid, err := d.c.Launch(ctx, dir, r)
	if err != nil {
		return nil, err
	}
	if err := d.events.Record(driver.Event{Type: driver.EventCreate, ID: req.ID, Pid: uint32(pid)}); err != nil {
		return nil, err
	}
	d.log.Debug("created", "id", req.ID, "pid", pid)
	return &driver.CreateResponse{Pid: uint32(pid)}, nil
}

// rollback removes what a failed Create made: the init libcontainer
// started, the monitor (when it registered the workload, it ends with it:
// waited for here, so that it writes nothing into the dir removed next),
// the cgroups, the state.
func (d *Driver) rollback(id, dir string) {
	c, lerr := lc.Load(lcmon.Root(d.layout), id)
	if lerr == nil {
		_ = c.Signal(syscall.SIGKILL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), deleteKillTimeout)
	defer cancel()
	if _, err := monitor.ReadPidRecord(dir); err == nil {
		if _, err := monitor.Wait(ctx, d.layout, id, ""); err != nil {
			d.log.Warn("create rollback: the workload did not end", "id", id, "error", err)
		}
	}
	if lerr == nil {
		_ = c.Destroy()
	}
	// Remove waits for the monitor's own end.
	if err := d.c.Remove(ctx, id); err != nil {
		d.log.Warn("create rollback", "id", id, "error", err)
	}
}

// lcError maps libcontainer errors to errdefs classes.
func lcError(op, id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, lc.ErrNotExist):
		return driver.NotFoundf("%s %s: no such container", op, id)
	case errors.Is(err, lc.ErrNotRunning):
		return driver.FailedPreconditionf("%s %s: container is not running", op, id)
	case errors.Is(err, lc.ErrRunning):
		return driver.FailedPreconditionf("%s %s: container is running", op, id)
	case errors.Is(err, lc.ErrPaused):
		return driver.FailedPreconditionf("%s %s: container is paused", op, id)
	case errors.Is(err, lc.ErrNotPaused):
		return driver.FailedPreconditionf("%s %s: container is not paused", op, id)
	}
	return fmt.Errorf("%s %s: %w", op, id, err)
}
