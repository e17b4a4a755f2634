package linux

import (
	"context"
	"errors"
	"fmt"
	"os"
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
			if c, err := lc.Load(lcmon.Root(d.layout), req.ID); err == nil {
				_ = c.Signal(syscall.SIGKILL)
				_ = c.Destroy()
			}
			os.RemoveAll(dir)
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
