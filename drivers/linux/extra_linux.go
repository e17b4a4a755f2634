package linux

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/cgroups"
	lc "github.com/opencontainers/runc/libcontainer"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/monitor"
)

// Exec starts an additional process in a running container, under its own
// monitor.
func (d *Driver) Exec(ctx context.Context, req *driver.ExecRequest) (*driver.ExecResponse, error) {
	if err := driver.ValidateID("exec id", req.ExecID); err != nil {
		return nil, err
	}
	c, err := d.load("exec", req.ID)
	if err != nil {
		return nil, err
	}
	if err := d.c.CheckExec(req); err != nil {
		return nil, err
	}
	if status, err := c.Status(); err != nil || status != lc.Running {
		return nil, driver.FailedPreconditionf("exec %s: container is %s, not running", req.ID, statusOf(status))
	}
	return d.c.Exec(ctx, req, nil, d.events.ExecStarted(req))
}

// ResizePty changes the terminal size of a process started with a terminal.
func (d *Driver) ResizePty(ctx context.Context, req *driver.ResizePtyRequest) error {
	return d.c.ResizePty(ctx, req)
}

// CloseIO closes the stdin of a process.
func (d *Driver) CloseIO(ctx context.Context, req *driver.CloseIORequest) error {
	return d.c.CloseIO(ctx, req)
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
	d.events.Note(driver.EventPause, id)
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
	d.events.Note(driver.EventResume, id)
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
