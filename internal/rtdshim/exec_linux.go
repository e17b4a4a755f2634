//go:build linux

package rtdshim

import (
	"context"
	"encoding/json"
	"fmt"

	eventstypes "github.com/containerd/containerd/api/events"
	taskAPI "github.com/containerd/containerd/api/runtime/task/v3"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/rtd-project/rtd/driver"
)

// Exec adds an exec to a container; the driver runs it on Start.
func (s *service) Exec(ctx context.Context, r *taskAPI.ExecProcessRequest) (*emptypb.Empty, error) {
	c, err := s.get(r.ID)
	if err != nil {
		return nil, err
	}
	if !c.caps.Exec {
		return nil, toGRPC(driver.NotImplementedf("exec in %s: driver %q does not support exec", r.ID, c.drv.Name))
	}
	if r.Terminal && !c.caps.Terminal {
		return nil, toGRPC(driver.NotImplementedf("exec in %s: driver %q does not support a terminal", r.ID, c.drv.Name))
	}
	var spec specs.Process
	if err := json.Unmarshal(r.GetSpec().GetValue(), &spec); err != nil {
		return nil, toGRPC(driver.InvalidArgumentf("exec %s in %s: process spec: %v", r.ExecID, r.ID, err))
	}
	spec.Terminal = r.Terminal
	io, _, err := stdioOf(r.ID, r.Stdin, r.Stdout, r.Stderr, r.Terminal)
	if err != nil {
		return nil, toGRPC(err)
	}
	p := newProc(r.ID, r.ExecID, io)
	p.spec = &spec
	c.mu.Lock()
	if _, dup := c.execs[r.ExecID]; dup {
		c.mu.Unlock()
		return nil, toGRPC(driver.AlreadyExistsf("exec %s in %s", r.ExecID, r.ID))
	}
	c.execs[r.ExecID] = p
	c.mu.Unlock()
	s.ev.send(&eventstypes.TaskExecAdded{ContainerID: r.ID, ExecID: r.ExecID})
	return empty, nil
}

// startExec runs an added exec on the driver.
func (s *service) startExec(ctx context.Context, c *container, p *proc) (*taskAPI.StartResponse, error) {
	if p.isStarted() {
		return nil, toGRPC(driver.FailedPreconditionf("start exec %s in %s: already started", p.execID, c.id))
	}
	_, dio, err := stdioOf(c.id, p.io.Stdin, p.io.Stdout, p.io.Stderr, p.io.Terminal)
	if err != nil {
		return nil, toGRPC(err)
	}
	c.mu.Lock()
	if c.init.exitStatus() != nil || c.pendingInit != nil {
		c.mu.Unlock()
		return nil, toGRPC(driver.FailedPreconditionf("start exec %s in %s: the container has stopped", p.execID, c.id))
	}
	p.counted = true
	c.running++
	c.mu.Unlock()
	resp, err := c.drv.Exec(ctx, &driver.ExecRequest{ID: c.id, ExecID: p.execID, Process: p.spec, Stdio: dio})
	if err != nil {
		c.mu.Lock()
		if p.counted {
			p.counted = false
			c.running--
		}
		c.mu.Unlock()
		return nil, toGRPC(fmt.Errorf("exec %s in %s: %w", p.execID, c.id, err))
	}
	p.setStarted(resp.Pid)
	s.ev.send(&eventstypes.TaskExecStarted{ContainerID: c.id, ExecID: p.execID, Pid: resp.Pid})
	go s.watchExit(c, p)
	return &taskAPI.StartResponse{Pid: resp.Pid}, nil
}

// Kill signals the init process, an exec, or with All every process.
func (s *service) Kill(ctx context.Context, r *taskAPI.KillRequest) (*emptypb.Empty, error) {
	c, p, err := s.process(r.ID, r.ExecID)
	if err != nil {
		return nil, err
	}
	if p.exitStatus() != nil && !r.All {
		return nil, toGRPC(fmt.Errorf("kill %s: process already finished: %w", p.taskID(), errdefs.ErrNotFound))
	}
	if r.ExecID != "" && !p.isStarted() {
		return nil, toGRPC(driver.FailedPreconditionf("kill exec %s in %s: not started", r.ExecID, r.ID))
	}
	err = c.drv.Kill(ctx, &driver.KillRequest{ID: c.id, ExecID: r.ExecID, Signal: r.Signal, All: r.All})
	if err != nil {
		if p.exitStatus() != nil || errdefs.IsNotFound(err) {
			return nil, toGRPC(fmt.Errorf("kill %s: process already finished: %w", p.taskID(), errdefs.ErrNotFound))
		}
		return nil, toGRPC(fmt.Errorf("kill %s: %w", p.taskID(), err))
	}
	return empty, nil
}

// ResizePty resizes the terminal of the init process or an exec.
func (s *service) ResizePty(ctx context.Context, r *taskAPI.ResizePtyRequest) (*emptypb.Empty, error) {
	c, _, err := s.process(r.ID, r.ExecID)
	if err != nil {
		return nil, err
	}
	if !c.caps.ResizePty {
		return nil, toGRPC(driver.NotImplementedf("resize pty of %s: driver %q does not support it", r.ID, c.drv.Name))
	}
	err = c.drv.ResizePty(ctx, &driver.ResizePtyRequest{ID: r.ID, ExecID: r.ExecID, Width: r.Width, Height: r.Height})
	return empty, toGRPC(err)
}

// CloseIO closes the stdin of the init process or an exec.
func (s *service) CloseIO(ctx context.Context, r *taskAPI.CloseIORequest) (*emptypb.Empty, error) {
	c, p, err := s.process(r.ID, r.ExecID)
	if err != nil {
		return nil, err
	}
	if !r.Stdin || p.exitStatus() != nil {
		return empty, nil
	}
	if !c.caps.CloseIO {
		return nil, toGRPC(driver.NotImplementedf("close stdin of %s: driver %q does not support it", r.ID, c.drv.Name))
	}
	err = c.drv.CloseIO(ctx, &driver.CloseIORequest{ID: r.ID, ExecID: r.ExecID})
	if err != nil && p.exitStatus() != nil {
		return empty, nil
	}
	return empty, toGRPC(err)
}
