//go:build windows

package windows

import (
	"context"
	"time"

	"github.com/Microsoft/hcsshim"

	"github.com/rtd-project/rtd/driver"
)

const (
	sigHUP  = 1
	sigINT  = 2
	sigKILL = 9
	sigTERM = 15
)

// Kill maps the signal onto what HCS offers, since Windows has no signals:
// SIGKILL terminates the init process (with All, the whole compute system)
// and is reported as signal 9; SIGTERM, SIGINT and SIGHUP shut the compute
// system down gracefully (processes get CTRL_SHUTDOWN_EVENT) and the exit
// code is the process's own. Other signals are InvalidArgument.
// UNVERIFIED on Windows.
func (d *Driver) Kill(ctx context.Context, req *driver.KillRequest) error {
	rec, err := d.store.Get("kill", req.ID)
	if err != nil {
		return err
	}
	if req.ExecID != "" {
		return driver.NotFoundf("kill %s: exec %s: exec is not supported", req.ID, req.ExecID)
	}
	switch req.Signal {
	case sigKILL, sigTERM, sigINT, sigHUP:
	default:
		return driver.InvalidArgumentf("kill %s: signal %d: Windows containers take only 9 (terminate) or 15, 2, 1 (shutdown)", req.ID, req.Signal)
	}
	if _, ok := d.store.Exit(req.ID); ok {
		return driver.FailedPreconditionf("kill %s: container is stopped", req.ID)
	}
	if !rec.Started {
		// No process yet: end the compute system and record the kill.
		if c, err := hcsshim.OpenContainer(req.ID); err == nil {
			stopSystem(c)
			c.Close()
		}
		return d.store.SaveExit(req.ID, &driver.ExitStatus{
			Code: 128 + req.Signal, Signal: int32(req.Signal), ExitedAt: time.Now().UTC(), Reason: "killed before start",
		})
	}
	lp := d.liveOf(rec)
	if lp == nil {
		return driver.FailedPreconditionf("kill %s: container is stopped", req.ID)
	}
	switch {
	case req.Signal == sigKILL && req.All:
		lp.killedBy.CompareAndSwap(0, sigKILL)
		err = lp.container.Terminate()
	case req.Signal == sigKILL:
		lp.killedBy.CompareAndSwap(0, sigKILL)
		err = lp.process.Kill()
	default:
		err = lp.container.Shutdown()
	}
	if err != nil && !hcsshim.IsPending(err) {
		return hcsError("kill", req.ID, err)
	}
	return nil
}

// Delete removes a container: a running one only with Force (it is
// terminated first). It returns the exit status and releases the scratch
// layer the driver prepared. UNVERIFIED on Windows.
func (d *Driver) Delete(ctx context.Context, req *driver.DeleteRequest) (*driver.ExitStatus, error) {
	rec, err := d.store.Get("delete", req.ID)
	if err != nil {
		return nil, err
	}
	if lp := d.liveOf(rec); lp != nil {
		if !req.Force {
			return nil, driver.FailedPreconditionf("delete %s: container is running; kill it first or force", req.ID)
		}
		lp.killedBy.CompareAndSwap(0, sigKILL)
		if err := lp.container.Terminate(); err != nil && !hcsshim.IsPending(err) && !hcsshim.IsAlreadyStopped(err) {
			return nil, hcsError("delete", req.ID, err)
		}
		select {
		case <-lp.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * shutdownTimeout):
			return nil, driver.Unavailablef("delete %s: the init process did not end after terminate", req.ID)
		}
	}
	if c, err := hcsshim.OpenContainer(req.ID); err == nil {
		stopSystem(c)
		c.Close()
	}
	if rec.ScratchLayer != "" {
		if err := releaseScratch(rec.ScratchLayer); err != nil {
			d.log.Warn("release scratch layer", "id", req.ID, "layer", rec.ScratchLayer, "error", err)
		}
	}
	exit, ok := d.store.Exit(req.ID)
	if !ok {
		exit = &driver.ExitStatus{ExitedAt: time.Now().UTC(), Reason: "never started"}
	}
	if err := d.store.Remove(req.ID); err != nil {
		return nil, err
	}
	return exit, nil
}

// List returns every container the driver has a record of.
func (d *Driver) List(ctx context.Context) ([]*driver.State, error) {
	ids, err := d.store.IDs()
	if err != nil {
		return nil, err
	}
	var out []*driver.State
	for _, id := range ids {
		rec, err := d.store.Get("list", id)
		if err != nil {
			continue // deleted meanwhile
		}
		out = append(out, d.state(rec))
	}
	return out, nil
}
