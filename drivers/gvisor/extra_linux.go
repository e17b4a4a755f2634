package gvisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/monitor"
)

// Exec starts a process in a running sandbox under its own monitor.
func (d *Driver) Exec(ctx context.Context, req *driver.ExecRequest) (_ *driver.ExecResponse, retErr error) {
	if err := monitor.ValidateID("exec id", req.ExecID); err != nil {
		return nil, err
	}
	if err := d.known("exec", req.ID); err != nil {
		return nil, err
	}
	if req.Process == nil || len(req.Process.Args) == 0 {
		return nil, driver.InvalidArgumentf("exec %s: no process args", req.ID)
	}
	if s := d.status(ctx, req.ID); s != driver.StatusRunning {
		return nil, driver.FailedPreconditionf("exec %s: container is %s, not running", req.ID, s)
	}
	dir := d.layout.ProcDir(req.ID, req.ExecID)
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if os.IsExist(err) {
			return nil, driver.AlreadyExistsf("exec %s: exec id %s is already in use", req.ID, req.ExecID)
		}
		return nil, err
	}
	defer func() {
		if retErr != nil {
			os.RemoveAll(dir)
		}
	}()
	unlock := d.events.Lock(req.ID, req.ExecID)
	defer unlock()
	r := monitor.Request{
		ID: req.ID, ExecID: req.ExecID, Process: req.Process, Stdio: monitor.StdioOf(req.Stdio),
		CreatedAt: time.Now().UnixNano(), Backend: d.backendRequest(),
	}
	if err := monitor.WriteJSONAtomic(filepath.Join(dir, "request.json"), r); err != nil {
		return nil, err
	}
	pid, err := monitor.Spawn(d.exe, d.layout, dir)
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", req.ID, err)
	}
	if err := d.events.Record(driver.Event{Type: driver.EventExec, ID: req.ID, ExecID: req.ExecID, Pid: uint32(pid)}); err != nil {
		_ = monitor.Signal(ctx, d.layout, req.ID, req.ExecID, syscall.SIGKILL)
		_, _ = monitor.Wait(ctx, d.layout, req.ID, req.ExecID)
		return nil, err
	}
	return &driver.ExecResponse{Pid: uint32(pid)}, nil
}

// control sends a request to the monitor of a live process.
func (d *Driver) control(op, id, execID string, call func() error) error {
	if err := d.known(op, id); err != nil {
		return err
	}
	dir := d.layout.ProcDir(id, execID)
	if _, err := os.Stat(dir); err != nil {
		return driver.NotFoundf("%s %s: no such exec %q", op, id, execID)
	}
	if monitor.ReadExit(dir) != nil {
		return driver.FailedPreconditionf("%s %s: process has exited", op, id)
	}
	if err := call(); err != nil {
		if errors.Is(err, monitor.ErrGone) {
			return driver.FailedPreconditionf("%s %s: process has exited", op, id)
		}
		return driver.FailedPreconditionf("%s %s: %v", op, id, err)
	}
	return nil
}

// ResizePty changes the terminal size of a process with a terminal.
func (d *Driver) ResizePty(ctx context.Context, req *driver.ResizePtyRequest) error {
	return d.control("resize pty", req.ID, req.ExecID, func() error {
		return monitor.Resize(ctx, d.layout, req.ID, req.ExecID, req.Width, req.Height)
	})
}

// CloseIO closes the stdin of a process.
func (d *Driver) CloseIO(ctx context.Context, req *driver.CloseIORequest) error {
	return d.control("close io", req.ID, req.ExecID, func() error {
		return monitor.CloseStdin(ctx, d.layout, req.ID, req.ExecID)
	})
}

// Pause freezes the sandbox.
func (d *Driver) Pause(ctx context.Context, id string) error {
	if err := d.known("pause", id); err != nil {
		return err
	}
	unlock := d.events.Lock(id, "")
	defer unlock()
	if s := d.status(ctx, id); s != driver.StatusRunning {
		return driver.FailedPreconditionf("pause %s: container is %s, not running", id, s)
	}
	if err := d.cfg.runtime().Pause(ctx, id); err != nil {
		return err
	}
	d.record(driver.EventPause, id)
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
	d.record(driver.EventResume, id)
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
