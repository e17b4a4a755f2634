//go:build windows

package windows

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/Microsoft/hcsshim"

	"github.com/rtd-project/rtd/driver"
)

const (
	// shutdownTimeout bounds a graceful shutdown before Terminate.
	shutdownTimeout = 10 * time.Second
	// pollInterval paces Wait on containers this process does not watch.
	pollInterval = 200 * time.Millisecond
)

// liveProcess is an init process this driver process watches.
type liveProcess struct {
	container hcsshim.Container
	process   hcsshim.Process
	done      chan struct{} // closed once exit.json is written
	killedBy  atomic.Int32  // the signal Kill asked for, to report the exit as a signal
}

// Start creates the init process in the booted compute system, wires its
// stdio to the host paths and watches it. UNVERIFIED on Windows.
func (d *Driver) Start(ctx context.Context, id string) (retErr error) {
	rec, err := d.store.Get("start", id)
	if err != nil {
		return err
	}
	if rec.Started {
		return driver.FailedPreconditionf("start %s: already started", id)
	}
	if _, ok := d.store.Exit(id); ok {
		return driver.FailedPreconditionf("start %s: container is stopped", id)
	}
	c, err := hcsshim.OpenContainer(id)
	if err != nil {
		return hcsError("start", id, err)
	}
	defer func() {
		if retErr != nil {
			c.Close()
		}
	}()
	files, err := openStdio(rec.Stdio)
	if err != nil {
		return driver.InvalidArgumentf("start %s: stdio: %v", id, err)
	}
	p, err := c.CreateProcess(toHCSProcess(rec.Process))
	if err != nil {
		files.close()
		return hcsError("start", id, err)
	}
	rec.Started, rec.Pid = true, uint32(p.Pid())
	if err := d.store.Save(rec.ID, rec); err != nil {
		_ = p.Kill()
		p.Close()
		files.close()
		return err
	}
	copied, err := files.copy(p)
	if err != nil {
		d.log.Warn("stdio", "id", id, "error", err)
	}
	d.mu.Lock()
	d.watch(id, c, p, copied)
	d.mu.Unlock()
	return nil
}

// watch records the exit of p and then shuts the compute system down,
// since a container lives as long as its init process. d.mu is held.
func (d *Driver) watch(id string, c hcsshim.Container, p hcsshim.Process, copied <-chan struct{}) *liveProcess {
	lp := &liveProcess{container: c, process: p, done: make(chan struct{})}
	d.live[id] = lp
	go func() {
		defer close(lp.done)
		waitErr := p.Wait()
		code, codeErr := p.ExitCode()
		st := &driver.ExitStatus{Code: uint32(code), ExitedAt: time.Now().UTC()}
		if waitErr != nil || codeErr != nil {
			st.Code, st.Reason = 255, "exit code unavailable from HCS: "+errString(waitErr, codeErr)
		}
		if sig := lp.killedBy.Load(); sig != 0 {
			st.Signal, st.Code = sig, 128+uint32(sig)
		}
		if copied != nil {
			select {
			case <-copied:
			case <-time.After(5 * time.Second):
			}
		}
		if err := d.store.SaveExit(id, st); err != nil {
			d.log.Error("record exit", "id", id, "error", err)
		}
		p.Close()
		stopSystem(c)
		c.Close()
		d.mu.Lock()
		delete(d.live, id)
		d.mu.Unlock()
	}()
	return lp
}

// stopSystem shuts a compute system down, terminating it if that fails.
func stopSystem(c hcsshim.Container) {
	if err := c.Shutdown(); err == nil || hcsshim.IsPending(err) {
		if c.WaitTimeout(shutdownTimeout) == nil {
			return
		}
	}
	if err := c.Terminate(); err == nil || hcsshim.IsPending(err) {
		_ = c.WaitTimeout(shutdownTimeout)
	}
}

func errString(errs ...error) string {
	for _, e := range errs {
		if e != nil {
			return e.Error()
		}
	}
	return ""
}

// liveOf returns the watcher of id, reattaching to a running init process
// after a driver restart (its stdio is then lost). It returns nil when the
// process is not running.
func (d *Driver) liveOf(rec *Record) *liveProcess {
	d.mu.Lock()
	defer d.mu.Unlock()
	lp := d.live[rec.ID]
	if lp != nil || !rec.Started {
		return lp
	}
	if _, ok := d.store.Exit(rec.ID); ok {
		return nil
	}
	c, err := hcsshim.OpenContainer(rec.ID)
	if err == nil {
		var p hcsshim.Process
		if p, err = c.OpenProcess(int(rec.Pid)); err == nil {
			return d.watch(rec.ID, c, p, nil)
		}
		c.Close()
	}
	_ = d.store.SaveExit(rec.ID, &driver.ExitStatus{
		Code: 255, ExitedAt: time.Now().UTC(),
		Reason: "exit status lost: the init process ended while no driver process watched it (" + err.Error() + ")",
	})
	return nil
}

// State reports the container's status from its record and HCS.
func (d *Driver) State(ctx context.Context, id string) (*driver.State, error) {
	rec, err := d.store.Get("state", id)
	if err != nil {
		return nil, err
	}
	return d.state(rec), nil
}

func (d *Driver) state(rec *Record) *driver.State {
	st := &driver.State{ID: rec.ID, Bundle: rec.Bundle, Pid: rec.Pid, Annotations: rec.Annotations, CreatedAt: rec.CreatedAt}
	lp := d.liveOf(rec)
	exit, stopped := d.store.Exit(rec.ID)
	switch {
	case stopped:
		st.Status, st.Exit = driver.StatusStopped, exit
	case lp != nil:
		st.Status = driver.StatusRunning
	default:
		st.Status = driver.StatusCreated
	}
	return st
}

// Wait blocks until the init process has ended. Exec ids do not exist.
func (d *Driver) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	rec, err := d.store.Get("wait", req.ID)
	if err != nil {
		return nil, err
	}
	if req.ExecID != "" {
		return nil, driver.NotFoundf("wait %s: exec %s: exec is not supported", req.ID, req.ExecID)
	}
	for {
		if e, ok := d.store.Exit(req.ID); ok {
			return e, nil
		}
		var done <-chan struct{}
		if lp := d.liveOf(rec); lp != nil {
			done = lp.done
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-done:
		case <-time.After(pollInterval):
			if rec, err = d.store.Get("wait", req.ID); err != nil {
				return nil, err
			}
		}
	}
}
