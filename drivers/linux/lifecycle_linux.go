package linux

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	lc "github.com/opencontainers/runc/libcontainer"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/linux/lcmon"
	"github.com/rtd-project/rtd/internal/monitor"
)

// deleteKillTimeout bounds how long a forced Delete waits for the workload
// to die after SIGKILL.
const deleteKillTimeout = 10 * time.Second

// known fails with NotFound unless the container has a process dir.
func (d *Driver) known(op, id string) error {
	if err := monitor.ValidateID("container id", id); err != nil {
		return err
	}
	if _, err := os.Stat(d.layout.ContainerDir(id)); err != nil {
		return driver.NotFoundf("%s %s: no such container", op, id)
	}
	return nil
}

func (d *Driver) load(op, id string) (*lc.Container, error) {
	if err := d.known(op, id); err != nil {
		return nil, err
	}
	c, err := lc.Load(lcmon.Root(d.layout), id)
	if err != nil {
		return nil, lcError(op, id, err)
	}
	return c, nil
}

// Start lets the created workload run.
func (d *Driver) Start(ctx context.Context, id string) error {
	c, err := d.load("start", id)
	if err != nil {
		return err
	}
	unlock := d.events.Lock(id, "")
	defer unlock()
	status, err := c.Status()
	if err != nil {
		return lcError("start", id, err)
	}
	if status != lc.Created {
		return driver.FailedPreconditionf("start %s: container is %s, not created", id, status)
	}
	if err := c.Exec(); err != nil {
		return lcError("start", id, err)
	}
	d.record(driver.EventStart, id)
	return nil
}

// record journals an event of a call that succeeded; the call stands even
// when the journal cannot be written (the failure is logged).
func (d *Driver) record(typ driver.EventType, id string) {
	ev := driver.Event{Type: typ, ID: id}
	if rec, err := monitor.ReadPidRecord(d.layout.ContainerDir(id)); err == nil {
		ev.Pid = uint32(rec.Pid)
	}
	if err := d.events.Record(ev); err != nil {
		d.log.Warn("events", "error", err)
	}
}

// State reports the container's status from libcontainer and its monitor.
func (d *Driver) State(ctx context.Context, id string) (*driver.State, error) {
	if err := d.known("state", id); err != nil {
		return nil, err
	}
	dir := d.layout.ContainerDir(id)
	var req monitor.Request
	if err := monitor.ReadJSON(filepath.Join(dir, "request.json"), &req); err != nil {
		return nil, driver.NotFoundf("state %s: container record unreadable: %v", id, err)
	}
	st := &driver.State{
		ID: id, Bundle: req.Bundle, Annotations: req.Annotations,
		Status: driver.StatusStopped, CreatedAt: time.Unix(0, req.CreatedAt).UTC(),
	}
	rec, err := monitor.ReadPidRecord(dir)
	if err == nil {
		st.Pid = uint32(rec.Pid)
	}
	st.Exit = monitor.ReadExit(dir)
	if st.Exit == nil && err == nil {
		// A dead monitor's workload is killed and its exit recorded.
		st.Exit = monitor.Check(ctx, d.layout, id, "")
	}
	if st.Exit != nil || err != nil || !rec.Alive() {
		return st, nil
	}
	st.Status = d.liveStatus(id)
	return st, nil
}

// liveStatus is the status of a container whose init is alive, decided as
// libcontainer decides it (the exec FIFO exists until Start; the freezer
// says paused) but without loading libcontainer's state, which costs most
// of a State call: while the paused marker is absent the container has not
// been frozen by this driver, and only then is the FIFO enough.
func (d *Driver) liveStatus(id string) driver.Status {
	if _, err := os.Stat(filepath.Join(d.layout.ContainerDir(id), pausedFile)); err != nil {
		if _, err := os.Stat(filepath.Join(lcmon.Root(d.layout), id, execFifo)); err == nil {
			return driver.StatusCreated
		}
		return driver.StatusRunning
	}
	c, err := lc.Load(lcmon.Root(d.layout), id)
	if err != nil {
		return driver.StatusStopped
	}
	s, err := c.Status()
	if err != nil {
		return driver.StatusUnknown
	}
	return statusOf(s)
}

const (
	// execFifo is libcontainer's FIFO in its container state dir on which
	// the created init waits for Start.
	execFifo = "exec.fifo"
	// pausedFile in a container dir says that a Pause began and no Resume
	// completed since; State then asks libcontainer.
	pausedFile = "paused"
)

func statusOf(s lc.Status) driver.Status {
	switch s {
	case lc.Created:
		return driver.StatusCreated
	case lc.Running:
		return driver.StatusRunning
	case lc.Paused:
		return driver.StatusPaused
	case lc.Stopped:
		return driver.StatusStopped
	}
	return driver.StatusUnknown
}

// Wait blocks until the process's exit status is recorded and returns it.
func (d *Driver) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	if err := d.known("wait", req.ID); err != nil {
		return nil, err
	}
	dir := d.layout.ProcDir(req.ID, req.ExecID)
	if _, err := os.Stat(dir); err != nil {
		return nil, driver.NotFoundf("wait %s: no such exec %q", req.ID, req.ExecID)
	}
	return monitor.Wait(ctx, d.layout, req.ID, req.ExecID)
}

// Kill signals the init process, an exec'd process, or with All every
// process of the container.
func (d *Driver) Kill(ctx context.Context, req *driver.KillRequest) error {
	sig := syscall.Signal(req.Signal)
	if req.Signal == 0 || req.Signal > 64 {
		return driver.InvalidArgumentf("kill %s: invalid signal %d", req.ID, req.Signal)
	}
	if req.ExecID != "" {
		if err := d.known("kill", req.ID); err != nil {
			return err
		}
		if monitor.ReadExit(d.layout.ProcDir(req.ID, req.ExecID)) != nil {
			return driver.FailedPreconditionf("kill %s: exec %s is not running", req.ID, req.ExecID)
		}
		err := monitor.Signal(ctx, d.layout, req.ID, req.ExecID, sig)
		if err != nil {
			return driver.FailedPreconditionf("kill %s: exec %s: %v", req.ID, req.ExecID, err)
		}
		return nil
	}
	c, err := d.load("kill", req.ID)
	if err != nil {
		return err
	}
	if !req.All || sig == syscall.SIGKILL {
		return lcError("kill", req.ID, c.Signal(sig))
	}
	pids, err := c.Processes()
	if err != nil {
		return lcError("kill", req.ID, err)
	}
	if len(pids) == 0 {
		return driver.FailedPreconditionf("kill %s: container is not running", req.ID)
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, sig)
	}
	return nil
}

// Delete removes a stopped container (Force kills a running one first) and
// everything the driver kept for it. It holds the process dir's lock, which
// a starting monitor holds until its workload is registered: a container
// whose monitor never registered one (the driver died during Create) is
// destroyed whole, whatever libcontainer had made of it.
func (d *Driver) Delete(ctx context.Context, req *driver.DeleteRequest) (*driver.ExitStatus, error) {
	if err := d.known("delete", req.ID); err != nil {
		return nil, err
	}
	dir := d.layout.ContainerDir(req.ID)
	wctx, cancel := context.WithTimeout(ctx, deleteKillTimeout)
	defer cancel()
	unlock, err := monitor.LockDir(wctx, dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, driver.NotFoundf("delete %s: container", req.ID)
		}
		return nil, driver.Unavailablef("delete %s: its monitor is still starting: %v", req.ID, err)
	}
	defer unlock()
	c, lerr := lc.Load(lcmon.Root(d.layout), req.ID)
	if _, err := monitor.ReadPidRecord(dir); err != nil {
		return d.destroyUnregistered(req.ID, c, lerr)
	}
	monitor.Check(ctx, d.layout, req.ID, "")
	if lerr == nil {
		status, err := c.Status()
		if err != nil {
			return nil, lcError("delete", req.ID, err)
		}
		if status != lc.Stopped {
			if !req.Force {
				return nil, driver.FailedPreconditionf("delete %s: container is %s; kill it first or force", req.ID, statusOf(status))
			}
			if err := c.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, lc.ErrNotRunning) {
				return nil, lcError("delete", req.ID, err)
			}
		}
	}
	exit, err := monitor.Wait(wctx, d.layout, req.ID, "")
	if err != nil {
		return nil, driver.Unavailablef("delete %s: workload did not end: %v", req.ID, err)
	}
	d.waitExecs(wctx, req.ID)
	if lerr == nil {
		if err := c.Destroy(); err != nil {
			d.log.Warn("destroy", "id", req.ID, "error", err)
		}
	}
	if err := d.events.Deleted(req.ID, exit); err != nil {
		d.log.Warn("events", "id", req.ID, "error", err)
	}
	monitor.RemoveSockets(d.layout, req.ID)
	if err := monitor.RemoveProcDir(wctx, dir); err != nil {
		return nil, err
	}
	return exit, nil
}

// destroyUnregistered removes a container whose monitor registered no
// workload (it failed, died, or never ran): any init libcontainer started is
// killed and its state and cgroups destroyed; nobody waits on it.
func (d *Driver) destroyUnregistered(id string, c *lc.Container, lerr error) (*driver.ExitStatus, error) {
	if lerr == nil {
		_ = c.Signal(syscall.SIGKILL)
		if err := c.Destroy(); err != nil {
			d.log.Warn("destroy", "id", id, "error", err)
		}
	}
	monitor.RemoveSockets(d.layout, id)
	if err := os.RemoveAll(d.layout.ContainerDir(id)); err != nil {
		return nil, err
	}
	return &driver.ExitStatus{Code: 255, ExitedAt: time.Now().UTC(), Reason: "the container was deleted before its process was started"}, nil
}

// waitExecs lets the monitors of exec'd processes record their exit (they die
// with the container) so none is left behind.
func (d *Driver) waitExecs(ctx context.Context, id string) {
	for _, e := range d.layout.ExecIDs(id) {
		_, _ = monitor.Wait(ctx, d.layout, id, e)
	}
}

// List returns the state of every container the driver knows.
func (d *Driver) List(ctx context.Context) ([]*driver.State, error) {
	entries, err := os.ReadDir(d.layout.ContainersDir())
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var out []*driver.State
	for _, e := range entries {
		st, err := d.State(ctx, e.Name())
		if err != nil {
			continue // deleted meanwhile
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}
