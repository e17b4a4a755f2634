package vm

import (
	"context"
	"os"
	"time"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
	imon "github.com/rtd-project/rtd/kit/monitor"
)

// proxy is the driver contract a monitor serves on its unix socket, for the
// (stateless) driver process: it forwards to the linux driver in the guest,
// with the host's view of stdio, pids and times, and answers from its own
// record once the VM is gone.
type proxy struct {
	driver.Unimplemented
	m *monitor
}

var _ driver.Driver = (*proxy)(nil)

func stoppedError(op string, c *ctr) error {
	return driver.FailedPreconditionf("%s %s: container is stopped (%s)", op, c.req.ID, exitText(c.status))
}

// sessionLost reports whether err says the session with the guest broke
// (the VM is gone, or the monitor is tearing it down) rather than answering.
func sessionLost(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() == nil && (errdefs.IsUnavailable(err) || errdefs.IsCanceled(err))
}

// agentError maps an error of the guest: a lost session means the VM is
// gone, which the caller sees as a stopped container.
func (p *proxy) agentError(ctx context.Context, op string, c *ctr, err error) error {
	if !sessionLost(ctx, err) {
		return err
	}
	select {
	case <-c.exited:
	case <-time.After(2 * agentGrace):
		return driver.FailedPreconditionf("%s %s: the vm does not answer: %v", op, c.req.ID, err)
	}
	return stoppedError(op, c)
}

// forward runs a call to the guest for container id unless it is stopped.
func (p *proxy) forward(ctx context.Context, op, id string, f func(driver.Driver) error) error {
	c, err := p.m.lookup(op, id)
	if err != nil {
		return err
	}
	if c.stopped() {
		return stoppedError(op, c)
	}
	return p.agentError(ctx, op, c, f(p.m.sess.agent))
}

// Info is answered by the driver process, not the monitor.
func (p *proxy) Info(context.Context) (*driver.Info, error) {
	return nil, driver.NotImplementedf("info: ask the driver, not its monitor")
}

// Create creates a container in a pod's VM; a single container's is
// created by the monitor at its start.
func (p *proxy) Create(ctx context.Context, req *driver.CreateRequest) (*driver.CreateResponse, error) {
	if p.m.pod == nil {
		return nil, driver.AlreadyExistsf("create %s: a container with this id already exists", p.m.req.ID)
	}
	if err := p.m.createInPod(ctx, req); err != nil {
		return nil, err
	}
	return &driver.CreateResponse{Pid: uint32(p.m.q.Pid())}, nil
}

// Start starts the created container in the guest.
func (p *proxy) Start(ctx context.Context, id string) error {
	return p.forward(ctx, "start", id, func(d driver.Driver) error { return d.Start(ctx, id) })
}

// State reports the guest's status with the host's bundle, pid and times.
func (p *proxy) State(ctx context.Context, id string) (*driver.State, error) {
	m := p.m
	c, err := m.lookup("state", id)
	if err != nil {
		return nil, err
	}
	st := &driver.State{
		ID: id, Bundle: c.req.Bundle, Annotations: c.req.Annotations, Pid: uint32(m.q.Pid()),
		CreatedAt: time.Unix(0, c.req.CreatedAt).UTC(), Status: driver.StatusStopped,
	}
	if !c.stopped() {
		gst, err := m.sess.agent.State(ctx, id)
		if err == nil && gst.Status != driver.StatusStopped {
			st.Status = gst.Status
			return st, nil
		}
		if err != nil && !sessionLost(ctx, err) {
			return nil, err
		}
		// Stopped in the guest: the host records it once the output is out.
		select {
		case <-c.exited:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(drainLimit + agentGrace):
			st.Status = driver.StatusUnknown
			return st, nil
		}
	}
	exit := c.status
	st.Exit = &exit
	return st, nil
}

// Wait waits for the host's record of the process's end.
func (p *proxy) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	m := p.m
	c, err := m.lookup("wait", req.ID)
	if err != nil {
		return nil, err
	}
	done, status := c.exited, func() driver.ExitStatus { return c.status }
	if req.ExecID != "" {
		m.mu.Lock()
		rec := c.execs[req.ExecID]
		m.mu.Unlock()
		if rec == nil {
			if st := imon.ReadExit(m.layout.ProcDir(c.req.ID, req.ExecID)); st != nil {
				return st, nil
			}
			return nil, driver.NotFoundf("wait %s: no such exec %q", c.req.ID, req.ExecID)
		}
		done, status = rec.done, func() driver.ExitStatus { return rec.status }
	}
	select {
	case <-done:
		st := status()
		return &st, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Kill signals the container's processes in the guest.
func (p *proxy) Kill(ctx context.Context, req *driver.KillRequest) error {
	if p.m.pod != nil && req.ID == sandboxKey(p.m.req.ID) {
		// The pod itself: its VM stops (the driver stopped its
		// containers first).
		p.m.endPod(driver.ExitStatus{Reason: "stopped"})
		return nil
	}
	c, err := p.m.lookup("kill", req.ID)
	if err != nil {
		return err
	}
	if req.ExecID != "" {
		p.m.mu.Lock()
		rec := c.execs[req.ExecID]
		p.m.mu.Unlock()
		if rec != nil {
			select {
			case <-rec.done:
				return driver.FailedPreconditionf("kill %s: exec %s is not running", req.ID, req.ExecID)
			default:
			}
		}
	}
	running := req.ExecID == "" && !c.stopped()
	err = p.forward(ctx, "kill", req.ID, func(d driver.Driver) error { return d.Kill(ctx, req) })
	if running && errdefs.IsFailedPrecondition(err) && c.stopped() {
		// It ended during the call: a single container's VM powers off
		// when its workload dies, which can close the session before the
		// agent's answer to this very kill arrives. The kill did what it
		// was asked; its exit status is recorded.
		return nil
	}
	return err
}

// Delete removes a stopped container from a pod's VM (its guest container,
// mounts and images); the driver process removes its records. A single
// container's VM ends with it: the driver process deletes it.
func (p *proxy) Delete(ctx context.Context, req *driver.DeleteRequest) (*driver.ExitStatus, error) {
	if p.m.pod == nil {
		return nil, driver.NotImplementedf("delete: ask the driver, not its monitor")
	}
	return p.m.removeFromPod(ctx, req.ID)
}

// List is done by the driver process.
func (p *proxy) List(context.Context) ([]*driver.State, error) {
	return nil, driver.NotImplementedf("list: ask the driver, not its monitor")
}

// Exec starts a process in the guest's container, with its stdio connected
// to the host paths, and records its end.
func (p *proxy) Exec(ctx context.Context, req *driver.ExecRequest) (*driver.ExecResponse, error) {
	m := p.m
	c, err := m.lookup("exec", req.ID)
	if err != nil {
		return nil, err
	}
	if c.stopped() {
		return nil, stoppedError("exec", c)
	}
	m.mu.Lock()
	if c.execs[req.ExecID] != nil {
		m.mu.Unlock()
		return nil, driver.AlreadyExistsf("exec %s: exec id %s is already in use", req.ID, req.ExecID)
	}
	rec := &execRecord{done: make(chan struct{})}
	c.execs[req.ExecID] = rec
	m.mu.Unlock()
	guestIO, pio, err := m.sess.openStdio(ctx, req.ID, req.ExecID, req.Stdio)
	if err == nil {
		r := *req
		r.Stdio = guestIO
		_, err = m.sess.agent.Exec(ctx, &r)
		if err != nil {
			pio.abort()
		}
	}
	if err != nil {
		m.mu.Lock()
		delete(c.execs, req.ExecID)
		m.mu.Unlock()
		return nil, p.agentError(ctx, "exec", c, err)
	}
	rec.io = pio
	go m.waitExec(c, req.ExecID, rec)
	return &driver.ExecResponse{}, nil
}

// waitExec records the end of an exec'd process.
func (m *monitor) waitExec(c *ctr, execID string, rec *execRecord) {
	st, err := m.sess.agent.Wait(context.Background(), &driver.WaitRequest{ID: c.req.ID, ExecID: execID})
	if err != nil {
		<-c.exited
		st = &driver.ExitStatus{Code: 255, ExitedAt: time.Now().UTC(), Reason: "the vm stopped before the process's status was known: " + c.status.Reason}
	}
	rec.io.drain(drainLimit)
	rec.status = *st
	dir := m.layout.ProcDir(c.req.ID, execID)
	if err := os.MkdirAll(dir, 0o700); err == nil {
		_ = imon.WriteExit(dir, st)
	}
	close(rec.done)
}

// ResizePty resizes a terminal in the guest.
func (p *proxy) ResizePty(ctx context.Context, req *driver.ResizePtyRequest) error {
	return p.forward(ctx, "resize pty", req.ID, func(d driver.Driver) error { return d.ResizePty(ctx, req) })
}

// CloseIO closes a process's stdin in the guest.
func (p *proxy) CloseIO(ctx context.Context, req *driver.CloseIORequest) error {
	return p.forward(ctx, "close io", req.ID, func(d driver.Driver) error { return d.CloseIO(ctx, req) })
}

// Pause freezes the container's cgroup in the guest.
func (p *proxy) Pause(ctx context.Context, id string) error {
	return p.forward(ctx, "pause", id, func(d driver.Driver) error { return d.Pause(ctx, id) })
}

// Resume thaws it.
func (p *proxy) Resume(ctx context.Context, id string) error {
	return p.forward(ctx, "resume", id, func(d driver.Driver) error { return d.Resume(ctx, id) })
}

// Stats reads the container's cgroup in the guest.
func (p *proxy) Stats(ctx context.Context, id string) (*driver.Stats, error) {
	var st *driver.Stats
	err := p.forward(ctx, "stats", id, func(d driver.Driver) (err error) { st, err = d.Stats(ctx, id); return err })
	return st, err
}

// Update changes the container's cgroup limits in the guest (not the VM's size).
func (p *proxy) Update(ctx context.Context, req *driver.UpdateRequest) error {
	return p.forward(ctx, "update", req.ID, func(d driver.Driver) error { return d.Update(ctx, req) })
}

// Pids lists the container's processes, as guest pids.
func (p *proxy) Pids(ctx context.Context, id string) ([]driver.ProcessInfo, error) {
	var ps []driver.ProcessInfo
	err := p.forward(ctx, "pids", id, func(d driver.Driver) (err error) { ps, err = d.Pids(ctx, id); return err })
	return ps, err
}

// exitText describes an exit status in a few words.
func exitText(st driver.ExitStatus) string {
	if st.Reason != "" {
		return st.Reason
	}
	if st.Signal != 0 {
		return "killed by signal " + itoa(int(st.Signal))
	}
	return "exit code " + itoa(int(st.Code))
}
