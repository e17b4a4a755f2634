package gvisor

import (
	"context"

	"github.com/rtd-project/rtd/driver"
)

// Exec starts a process in a running sandbox under its own monitor.
func (d *Driver) Exec(ctx context.Context, req *driver.ExecRequest) (*driver.ExecResponse, error) {
	if err := d.c.KnownExec(req); err != nil {
		return nil, err
	}
	if s := d.status(ctx, req.ID); s != driver.StatusRunning {
		return nil, driver.FailedPreconditionf("exec %s: container is %s, not running", req.ID, s)
	}
	return d.c.Exec(ctx, req, d.backendRequest(), d.events.ExecStarted(req))
}

// ResizePty changes the terminal size of a process with a terminal.
func (d *Driver) ResizePty(ctx context.Context, req *driver.ResizePtyRequest) error {
	return d.c.ResizePty(ctx, req)
}

// CloseIO closes the stdin of a process.
func (d *Driver) CloseIO(ctx context.Context, req *driver.CloseIORequest) error {
	return d.c.CloseIO(ctx, req)
}

// Pause freezes the sandbox.
func (d *Driver) Pause(ctx context.Context, id string) error {
	if err := d.known("pause", id); err != nil {
		return err
	}
	if isMember(d.layout.ContainerDir(id)) {
		return driver.NotImplementedf("pause %s: the container is in a gvisor sandbox, and runsc pauses whole sandboxes only", id)
	}
	unlock := d.events.Lock(id, "")
	defer unlock()
	if s := d.status(ctx, id); s != driver.StatusRunning {
		return driver.FailedPreconditionf("pause %s: container is %s, not running", id, s)
	}
	if err := d.cfg.runtime().Pause(ctx, id); err != nil {
		return err
	}
	d.events.Note(driver.EventPause, id)
	return nil
}

// Resume thaws the sandbox.
func (d *Driver) Resume(ctx context.Context, id string) error {
	if err := d.known("resume", id); err != nil {
		return err
	}
	unlock := d.events.Lock(id, "")
	defer unlock()
	if s := d.status(ctx, id); s != driver.StatusPaused {
		return driver.FailedPreconditionf("resume %s: container is %s, not paused", id, s)
	}
	if err := d.cfg.runtime().Resume(ctx, id); err != nil {
		return err
	}
	d.events.Note(driver.EventResume, id)
	return nil
}

// Pids lists the processes inside the sandbox (pids of its own namespace).
func (d *Driver) Pids(ctx context.Context, id string) ([]driver.ProcessInfo, error) {
	if err := d.known("pids", id); err != nil {
		return nil, err
	}
	pids, err := d.cfg.runtime().Ps(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]driver.ProcessInfo, 0, len(pids))
	for _, p := range pids {
		out = append(out, driver.ProcessInfo{Pid: uint32(p)})
	}
	return out, nil
}
