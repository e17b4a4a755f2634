package vm

import (
	"context"
	"os"

	"github.com/rtd-project/rtd/driver"
	imon "github.com/rtd-project/rtd/kit/monitor"
)

// Exec starts an additional process in the running container, in its VM.
func (d *Driver) Exec(ctx context.Context, req *driver.ExecRequest) (_ *driver.ExecResponse, retErr error) {
	if err := d.c.KnownExec(req); err != nil {
		return nil, err
	}
	if imon.ReadExit(d.layout.ContainerDir(req.ID)) != nil {
		return nil, driver.FailedPreconditionf("exec %s: container is stopped", req.ID)
	}
	dir, err := d.c.NewDir(req.ID, req.ExecID)
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			os.RemoveAll(dir)
		}
	}()
	unlock := d.events.Lock(req.ID, req.ExecID)
	defer unlock()
	var resp *driver.ExecResponse
	err = d.running(ctx, "exec", req.ID, func(m driver.Driver) (err error) { resp, err = m.Exec(ctx, req); return err })
	if err != nil {
		return nil, err
	}
	if err := d.events.Record(driver.Event{Type: driver.EventExec, ID: req.ID, ExecID: req.ExecID, Pid: resp.Pid}); err != nil {
		d.log.Warn("events", "id", req.ID, "exec", req.ExecID, "error", err)
	}
	return resp, nil
}

// ResizePty changes the terminal size of a process started with a terminal.
func (d *Driver) ResizePty(ctx context.Context, req *driver.ResizePtyRequest) error {
	return d.running(ctx, "resize pty", req.ID, func(m driver.Driver) error { return m.ResizePty(ctx, req) })
}

// CloseIO closes the stdin of a process.
func (d *Driver) CloseIO(ctx context.Context, req *driver.CloseIORequest) error {
	return d.running(ctx, "close io", req.ID, func(m driver.Driver) error { return m.CloseIO(ctx, req) })
}

// Pause freezes every process of the container (its guest cgroup; the
// guest kernel keeps running).
func (d *Driver) Pause(ctx context.Context, id string) error {
	return d.journaled(ctx, driver.EventPause, id, func(m driver.Driver) error { return m.Pause(ctx, id) })
}

// Resume thaws a paused container.
func (d *Driver) Resume(ctx context.Context, id string) error {
	return d.journaled(ctx, driver.EventResume, id, func(m driver.Driver) error { return m.Resume(ctx, id) })
}

// Stats reads the container's cgroup counters in the guest.
func (d *Driver) Stats(ctx context.Context, id string) (*driver.Stats, error) {
	var st *driver.Stats
	err := d.running(ctx, "stats", id, func(m driver.Driver) (err error) { st, err = m.Stats(ctx, id); return err })
	return st, err
}

// Update changes the memory, pids and cpu limits of the container's guest
// cgroup (the VM keeps its size).
func (d *Driver) Update(ctx context.Context, req *driver.UpdateRequest) error {
	if req.Resources == nil {
		if err := d.known("update", req.ID); err != nil {
			return err
		}
		return driver.InvalidArgumentf("update %s: no resources given", req.ID)
	}
	return d.running(ctx, "update", req.ID, func(m driver.Driver) error { return m.Update(ctx, req) })
}

// Pids lists the container's processes (guest pids).
func (d *Driver) Pids(ctx context.Context, id string) ([]driver.ProcessInfo, error) {
	var ps []driver.ProcessInfo
	err := d.running(ctx, "pids", id, func(m driver.Driver) (err error) { ps, err = m.Pids(ctx, id); return err })
	return ps, err
}
