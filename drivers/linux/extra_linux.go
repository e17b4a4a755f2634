package linux

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/opencontainers/cgroups"
	lc "github.com/opencontainers/runc/libcontainer"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/monitor"
)

// Exec starts an additional process in a running container, under its own
// monitor.
func (d *Driver) Exec(ctx context.Context, req *driver.ExecRequest) (_ *driver.ExecResponse, retErr error) {
	if err := monitor.ValidateID("exec id", req.ExecID); err != nil {
		return nil, err
	}
	c, err := d.load("exec", req.ID)
	if err != nil {
		return nil, err
	}
	if req.Process == nil || len(req.Process.Args) == 0 {
		return nil, driver.InvalidArgumentf("exec %s: no process args", req.ID)
	}
	if status, err := c.Status(); err != nil || status != lc.Running {
		return nil, driver.FailedPreconditionf("exec %s: container is %s, not running", req.ID, statusOf(status))
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
	r := monitor.Request{ID: req.ID, ExecID: req.ExecID, Process: req.Process, Stdio: monitor.StdioOf(req.Stdio), CreatedAt: time.Now().UnixNano()}
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
func (d *Driver) control(ctx context.Context, op, id, execID string, call func() error) error {
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
	err := call()
	if errors.Is(err, monitor.ErrGone) {
		return driver.FailedPreconditionf("%s %s: process has exited", op, id)
	}
	if err != nil {
		return driver.FailedPreconditionf("%s %s: %v", op, id, err)
	}
	return nil
}

// ResizePty changes the terminal size of a process started with a terminal.
func (d *Driver) ResizePty(ctx context.Context, req *driver.ResizePtyRequest) error {
	return d.control(ctx, "resize pty", req.ID, req.ExecID, func() error {
		return monitor.Resize(ctx, d.layout, req.ID, req.ExecID, req.Width, req.Height)
	})
}

// CloseIO closes the stdin of a process.
func (d *Driver) CloseIO(ctx context.Context, req *driver.CloseIORequest) error {
	return d.control(ctx, "close io", req.ID, req.ExecID, func() error {
		return monitor.CloseStdin(ctx, d.layout, req.ID, req.ExecID)
	})
}

// Pause freezes every process of the container.
func (d *Driver) Pause(ctx context.Context, id string) error {
	c, err := d.load("pause", id)
	if err != nil {
		return err
	}
	unlock := d.events.Lock(id, "")
	defer unlock()
	// The marker goes first, so that State never reads a frozen container
	// as running (liveStatus).
	marker := filepath.Join(d.layout.ContainerDir(id), pausedFile)
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		return fmt.Errorf("pause %s: %w", id, err)
	}
	if err := c.Pause(); err != nil {
		if s, serr := c.Status(); serr != nil || s != lc.Paused {
			os.Remove(marker)
		}
		return lcError("pause", id, err)
	}
	d.record(driver.EventPause, id)
	return nil
}

// Resume thaws a paused container.
func (d *Driver) Resume(ctx context.Context, id string) error {
	c, err := d.load("resume", id)
	if err != nil {
		return err
	}
	unlock := d.events.Lock(id, "")
	defer unlock()
	if err := c.Resume(); err != nil {
		return lcError("resume", id, err)
	}
	os.Remove(filepath.Join(d.layout.ContainerDir(id), pausedFile))
	d.record(driver.EventResume, id)
	return nil
}

// Stats reads the container's cgroup counters.
func (d *Driver) Stats(ctx context.Context, id string) (*driver.Stats, error) {
	c, err := d.load("stats", id)
	if err != nil {
		return nil, err
	}
	s, err := c.Stats()
	if err != nil {
		return nil, lcError("stats", id, err)
	}
	cs := s.CgroupStats
	if cs == nil {
		return nil, driver.FailedPreconditionf("stats %s: no cgroup statistics", id)
	}
	out := &driver.Stats{
		Fields:           []string{"cpu", "memory", "pids"},
		CPUUsageNanos:    cs.CpuStats.CpuUsage.TotalUsage,
		MemoryUsageBytes: cs.MemoryStats.Usage.Usage,
		MemoryLimitBytes: cs.MemoryStats.Usage.Limit,
		PidsCurrent:      cs.PidsStats.Current,
		PidsLimit:        cs.PidsStats.Limit,
	}
	return out, nil
}

// Update changes memory, pids and cpu limits of a running container.
func (d *Driver) Update(ctx context.Context, req *driver.UpdateRequest) error {
	c, err := d.load("update", req.ID)
	if err != nil {
		return err
	}
	if req.Resources == nil {
		return driver.InvalidArgumentf("update %s: no resources given", req.ID)
	}
	config := c.Config()
	if config.Cgroups.Resources == nil {
		config.Cgroups.Resources = &cgroups.Resources{}
	}
	r, res := config.Cgroups.Resources, req.Resources
	if m := res.Memory; m != nil {
		if m.Limit != nil {
			r.Memory = *m.Limit
		}
		if m.Swap != nil {
			r.MemorySwap = *m.Swap
		}
	}
	if p := res.Pids; p != nil {
		r.PidsLimit = p.Limit
	}
	if cpu := res.CPU; cpu != nil {
		if cpu.Shares != nil {
			r.CpuShares = *cpu.Shares
		}
		if cpu.Quota != nil {
			r.CpuQuota = *cpu.Quota
		}
		if cpu.Period != nil {
			r.CpuPeriod = *cpu.Period
		}
	}
	return lcError("update", req.ID, c.Set(config))
}

// Pids lists the container's processes; exec'd ones carry their exec id.
func (d *Driver) Pids(ctx context.Context, id string) ([]driver.ProcessInfo, error) {
	c, err := d.load("pids", id)
	if err != nil {
		return nil, err
	}
	pids, err := c.Processes()
	if err != nil {
		return nil, lcError("pids", id, err)
	}
	execs := map[int]string{}
	for _, e := range d.layout.ExecIDs(id) {
		if rec, err := monitor.ReadPidRecord(d.layout.ProcDir(id, e)); err == nil {
			execs[rec.Pid] = e
		}
	}
	out := make([]driver.ProcessInfo, 0, len(pids))
	for _, p := range pids {
		out = append(out, driver.ProcessInfo{Pid: uint32(p), ExecID: execs[p]})
	}
	return out, nil
}
