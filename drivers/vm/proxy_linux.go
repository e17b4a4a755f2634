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

// stopped reports whether the container's end is recorded.
func (p *proxy) stopped() bool {
	select {
	case <-p.m.exited:
		return true
	default:
		return false
	}
}

func (p *proxy) stoppedError(op string) error {
	return driver.FailedPreconditionf("%s %s: container is stopped (%s)", op, p.m.req.ID, exitText(p.m.status))
}

// sessionLost reports whether err says the session with the guest broke
// (the VM is gone, or the monitor is tearing it down) rather than answering.
func sessionLost(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() == nil && (errdefs.IsUnavailable(err) || errdefs.IsCanceled(err))
}

// agentError maps an error of the guest: a lost session means the VM is
// gone, which the caller sees as a stopped container.
func (p *proxy) agentError(ctx context.Context, op string, err error) error {
	if !sessionLost(ctx, err) {
		return err
	}
	select {
	case <-p.m.exited:
	case <-time.After(2 * agentGrace):
		return driver.FailedPreconditionf("%s %s: the vm does not answer: %v", op, p.m.req.ID, err)
	}
	return p.stoppedError(op)
}

// forward runs a call to the guest unless the container is stopped.
func (p *proxy) forward(ctx context.Context, op string, f func(driver.Driver) error) error {
	if p.stopped() {
		return p.stoppedError(op)
	}
	return p.agentError(ctx, op, f(p.m.sess.agent))
}

// Info is answered by the driver process, not the monitor.
func (p *proxy) Info(context.Context) (*driver.Info, error) {
	return nil, driver.NotImplementedf("info: ask the driver, not its monitor")
}

// Create is done by the monitor at its start.
func (p *proxy) Create(context.Context, *driver.CreateRequest) (*driver.CreateResponse, error) {
	return nil, driver.AlreadyExistsf("create %s: a container with this id already exists", p.m.req.ID)
}

// Start starts the created container in the guest.
func (p *proxy) Start(ctx context.Context, id string) error {
	return p.forward(ctx, "start", func(d driver.Driver) error { return d.Start(ctx, id) })
}

// State reports the guest's status with the host's bundle, pid and times.
func (p *proxy) State(ctx context.Context, id string) (*driver.State, error) {
	m := p.m
	st := &driver.State{
		ID: id, Bundle: m.req.Bundle, Annotations: m.req.Annotations, Pid: uint32(m.q.Pid()),
		CreatedAt: time.Unix(0, m.req.CreatedAt).UTC(), Status: driver.StatusStopped,
	}
	if !p.stopped() {
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
		case <-m.exited:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(drainLimit + agentGrace):
			st.Status = driver.StatusUnknown
			return st, nil
		}
	}
	exit := m.status
	st.Exit = &exit
	return st, nil
}

// Wait waits for the host's record of the process's end.
func (p *proxy) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	m := p.m
	done, status := m.exited, func() driver.ExitStatus { return m.status }
	if req.ExecID != "" {
		m.mu.Lock()
		rec := m.execs[req.ExecID]
		m.mu.Unlock()
		if rec == nil {
			if st := imon.ReadExit(m.layout.ProcDir(m.req.ID, req.ExecID)); st != nil {
				return st, nil
			}
			return nil, driver.NotFoundf("wait %s: no such exec %q", m.req.ID, req.ExecID)
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
	if req.ExecID != "" {
		p.m.mu.Lock()
		rec := p.m.execs[req.ExecID]
		p.m.mu.Unlock()
		if rec != nil {
			select {
			case <-rec.done:
				return driver.FailedPreconditionf("kill %s: exec %s is not running", req.ID, req.ExecID)
			default:
			}
		}
	}
	return p.forward(ctx, "kill", func(d driver.Driver) error { return d.Kill(ctx, req) })
}

// Delete is done by the driver process.
func (p *proxy) Delete(context.Context, *driver.DeleteRequest) (*driver.ExitStatus, error) {
	return nil, driver.NotImplementedf("delete: ask the driver, not its monitor")
}

// List is done by the driver process.
func (p *proxy) List(context.Context) ([]*driver.State, error) {
	return nil, driver.NotImplementedf("list: ask the driver, not its monitor")
}

// Exec starts a process in the guest's container, with its stdio connected
// to the host paths, and records its end.
func (p *proxy) Exec(ctx context.Context, req *driver.ExecRequest) (*driver.ExecResponse, error) {
	m := p.m
	if p.stopped() {
		return nil, p.stoppedError("exec")
	}
	m.mu.Lock()
	if m.execs[req.ExecID] != nil {
		m.mu.Unlock()
		return nil, driver.AlreadyExistsf("exec %s: exec id %s is already in use", req.ID, req.ExecID)
	}
	rec := &execRecord{done: make(chan struct{})}
	m.execs[req.ExecID] = rec
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
		delete(m.execs, req.ExecID)
		m.mu.Unlock()
		return nil, p.agentError(ctx, "exec", err)
	}
	rec.io = pio
	go m.waitExec(req.ExecID, rec)
	return &driver.ExecResponse{}, nil
}

// waitExec records the end of an exec'd process.
func (m *monitor) waitExec(execID string, rec *execRecord) {
	st, err := m.sess.agent.Wait(context.Background(), &driver.WaitRequest{ID: m.req.ID, ExecID: execID})
	if err != nil {
		<-m.exited
		st = &driver.ExitStatus{Code: 255, ExitedAt: time.Now().UTC(), Reason: "the vm stopped before the process's status was known: " + m.status.Reason}
	}
	rec.io.drain(drainLimit)
	rec.status = *st
	dir := m.layout.ProcDir(m.req.ID, execID)
	if err := os.MkdirAll(dir, 0o700); err == nil {
		_ = imon.WriteExit(dir, st)
	}
	close(rec.done)
}

// ResizePty resizes a terminal in the guest.
func (p *proxy) ResizePty(ctx context.Context, req *driver.ResizePtyRequest) error {
	return p.forward(ctx, "resize pty", func(d driver.Driver) error { return d.ResizePty(ctx, req) })
}

// CloseIO closes a process's stdin in the guest.
func (p *proxy) CloseIO(ctx context.Context, req *driver.CloseIORequest) error {
	return p.forward(ctx, "close io", func(d driver.Driver) error { return d.CloseIO(ctx, req) })
}

// Pause freezes the container's cgroup in the guest.
func (p *proxy) Pause(ctx context.Context, id string) error {
	return p.forward(ctx, "pause", func(d driver.Driver) error { return d.Pause(ctx, id) })
}

// Resume thaws it.
func (p *proxy) Resume(ctx context.Context, id string) error {
	return p.forward(ctx, "resume", func(d driver.Driver) error { return d.Resume(ctx, id) })
}

// Stats reads the container's cgroup in the guest.
func (p *proxy) Stats(ctx context.Context, id string) (*driver.Stats, error) {
	var st *driver.Stats
	err := p.forward(ctx, "stats", func(d driver.Driver) (err error) { st, err = d.Stats(ctx, id); return err })
	return st, err
}

// Update changes the container's cgroup limits in the guest (not the VM's size).
func (p *proxy) Update(ctx context.Context, req *driver.UpdateRequest) error {
	return p.forward(ctx, "update", func(d driver.Driver) error { return d.Update(ctx, req) })
}

// Pids lists the container's processes, as guest pids.
func (p *proxy) Pids(ctx context.Context, id string) ([]driver.ProcessInfo, error) {
	var ps []driver.ProcessInfo
	err := p.forward(ctx, "pids", func(d driver.Driver) (err error) { ps, err = d.Pids(ctx, id); return err })
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
