package linux

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"

	lc "github.com/opencontainers/runc/libcontainer"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/linux/lcmon"
	"github.com/rtd-project/rtd/kit/monitor"
)

// deleteKillTimeout bounds how long a forced Delete waits for the workload
// to die after SIGKILL.
const deleteKillTimeout = 10 * time.Second

// known fails with NotFound unless the container has a process dir.
func (d *Driver) known(op, id string) error { return d.c.Known(op, id) }

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
	d.events.Note(driver.EventStart, id)
	return nil
}

// State reports the container's status from libcontainer and its monitor.
func (d *Driver) State(ctx context.Context, id string) (*driver.State, error) {
	st, rec, err := d.c.Record("state", id)
	if err != nil {
		return nil, err
	}
	if st.Exit == nil && rec != nil {
		// A dead monitor's workload is killed and its exit recorded.
		st.Exit = monitor.Check(ctx, d.layout, id, "")
	}
	st.Status = driver.StatusStopped
	if st.Exit != nil || rec == nil || !rec.Alive() {
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
	return d.c.Wait(ctx, req)
}

// Kill signals the init process, an exec'd process, or with All every
// process of the container.
func (d *Driver) Kill(ctx context.Context, req *driver.KillRequest) error {
	if err := monitor.CheckSignal(req); err != nil {
		return err
	}
	if req.ExecID != "" {
		return d.c.KillExec(ctx, req)
	}
	sig := syscall.Signal(req.Signal)
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
	unlock, err := d.c.LockForDelete(wctx, req.ID, deleteKillTimeout)
	if err != nil {
		return nil, err
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
	d.c.WaitExecs(wctx, req.ID)
	if lerr == nil {
		if err := c.Destroy(); err != nil {
			d.log.Warn("destroy", "id", req.ID, "error", err)
		}
	}
	if err := d.events.Deleted(req.ID, exit); err != nil {
		d.log.Warn("events", "id", req.ID, "error", err)
	}
	if err := d.c.Remove(wctx, req.ID); err != nil {
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

// List returns the state of every container the driver knows.
func (d *Driver) List(ctx context.Context) ([]*driver.State, error) {
	return d.c.List(ctx, d.State)
}
