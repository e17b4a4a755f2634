//go:build linux

package rtdshim

import (
	"context"
	"fmt"
	"os"
	"sync"

	eventstypes "github.com/containerd/containerd/api/events"
	sandboxAPI "github.com/containerd/containerd/api/runtime/sandbox/v1"
	taskAPI "github.com/containerd/containerd/api/runtime/task/v3"
	"github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/protobuf"
	"github.com/containerd/containerd/v2/pkg/shim"
	"github.com/containerd/containerd/v2/pkg/shutdown"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/log"
	"github.com/containerd/ttrpc"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

var empty = &emptypb.Empty{}

// service is the task service of one shim process: every container of one
// pod (or one container), on one core whose root is private to this shim.
type service struct {
	ctx    context.Context
	cancel context.CancelFunc
	core   *core.Core
	root   string
	sd     shutdown.Service
	ev     *eventQueue

	mu         sync.Mutex
	containers map[string]*container
	watching   map[*core.Plugin]bool  // drivers whose Events stream is followed
	pathCores  map[string]*core.Core  // cores with a driver_path option
	sandboxes  map[string]*apiSandbox // pods made through the Sandbox API
}

// NewTaskService returns the task service; containerd's pkg/shim serves it.
func NewTaskService(ctx context.Context, publisher shim.Publisher, sd shutdown.Service) (taskAPI.TTRPCTaskService, error) {
	ns, err := namespaces.NamespaceRequired(ctx)
	if err != nil {
		return nil, err
	}
	root, err := newShimRoot(ns)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &service{
		ctx:        ctx,
		cancel:     cancel,
		core:       core.New(core.Options{Root: root, SearchPath: searchPath(nil), Logger: newLogger()}),
		root:       root,
		sd:         sd,
		ev:         newEventQueue(ctx, publisher),
		containers: map[string]*container{},
		watching:   map[*core.Plugin]bool{},
		pathCores:  map[string]*core.Core{},
		sandboxes:  map[string]*apiSandbox{},
	}
	sd.RegisterCallback(func(context.Context) error {
		s.cancel()
		s.core.Close()
		s.mu.Lock()
		for _, c := range s.pathCores {
			c.Close()
		}
		s.mu.Unlock()
		s.ev.close()
		removeShimRoot(root)
		return nil
	})
	return s, nil
}

// newLogger sends the core's and the drivers' log lines to the shim's
// stderr, which pkg/shim points at containerd's log FIFO.
func newLogger() hclog.Logger {
	level := hclog.Info
	if os.Getenv("RTD_SHIM_DEBUG") != "" {
		level = hclog.Debug
	}
	return hclog.New(&hclog.LoggerOptions{Name: "rtd-shim", Output: os.Stderr, Level: level})
}

// RegisterTTRPC implements shim.TTRPCService.
func (s *service) RegisterTTRPC(server *ttrpc.Server) error {
	taskAPI.RegisterTTRPCTaskService(server, s)
	sandboxAPI.RegisterTTRPCSandboxService(server, &sandboxService{s})
	return nil
}

// get returns a container of this shim, NotFound otherwise.
func (s *service) get(id string) (*container, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.containers[id]
	if !ok {
		return nil, errgrpc.ToGRPCf(errdefs.ErrNotFound, "container %s not found in this shim", id)
	}
	return c, nil
}

// process returns the init process (execID "") or an exec of container id.
func (s *service) process(id, execID string) (*container, *proc, error) {
	c, err := s.get(id)
	if err != nil {
		return nil, nil, err
	}
	p := c.proc(execID)
	if p == nil {
		return nil, nil, errgrpc.ToGRPCf(errdefs.ErrNotFound, "exec %s not found in container %s", execID, id)
	}
	return c, p, nil
}

// State reports a process's status.
func (s *service) State(ctx context.Context, r *taskAPI.StateRequest) (*taskAPI.StateResponse, error) {
	c, p, err := s.process(r.ID, r.ExecID)
	if err != nil {
		return nil, err
	}
	resp := &taskAPI.StateResponse{
		ID: p.taskID(), Bundle: c.bundle, Pid: p.getPid(),
		Stdin: p.io.Stdin, Stdout: p.io.Stdout, Stderr: p.io.Stderr, Terminal: p.io.Terminal,
		ExecID: r.ExecID,
	}
	if st := p.exitStatus(); st != nil {
		resp.Status = task.Status_STOPPED
		resp.ExitStatus = st.Code
		resp.ExitedAt = protobuf.ToTimestamp(st.ExitedAt)
		return resp, nil
	}
	if r.ExecID != "" {
		resp.Status = task.Status_CREATED
		if p.isStarted() {
			resp.Status = task.Status_RUNNING
		}
		return resp, nil
	}
	st, err := c.drv.State(ctx, c.id)
	if err != nil {
		return nil, toGRPC(fmt.Errorf("state %s: %w", c.id, err))
	}
	resp.Status = statusOf(st.Status)
	if st.Exit != nil {
		resp.ExitStatus = st.Exit.Code
		resp.ExitedAt = protobuf.ToTimestamp(st.Exit.ExitedAt)
	}
	return resp, nil
}

func statusOf(s driver.Status) task.Status {
	switch s {
	case driver.StatusCreated:
		return task.Status_CREATED
	case driver.StatusRunning:
		return task.Status_RUNNING
	case driver.StatusPaused:
		return task.Status_PAUSED
	case driver.StatusStopped:
		return task.Status_STOPPED
	}
	return task.Status_UNKNOWN
}

// Wait blocks until a process has ended and its exit has been published.
func (s *service) Wait(ctx context.Context, r *taskAPI.WaitRequest) (*taskAPI.WaitResponse, error) {
	_, p, err := s.process(r.ID, r.ExecID)
	if err != nil {
		return nil, err
	}
	select {
	case <-p.exited:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	st := p.exitStatus()
	return &taskAPI.WaitResponse{ExitStatus: st.Code, ExitedAt: protobuf.ToTimestamp(st.ExitedAt)}, nil
}

// Connect reports the shim's and the init process's pids.
func (s *service) Connect(ctx context.Context, r *taskAPI.ConnectRequest) (*taskAPI.ConnectResponse, error) {
	resp := &taskAPI.ConnectResponse{ShimPid: uint32(os.Getpid()), Version: "rtd"}
	if c, err := s.get(r.ID); err == nil {
		resp.TaskPid = c.init.getPid()
	}
	return resp, nil
}

// Shutdown ends the shim once it serves no container and no sandbox (a
// Sandbox API pod ends it with ShutdownSandbox): the driver processes
// are closed and the shim's root removed (a callback registered in
// NewTaskService).
func (s *service) Shutdown(ctx context.Context, r *taskAPI.ShutdownRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	n := len(s.containers) + len(s.sandboxes)
	s.mu.Unlock()
	if n > 0 {
		log.G(ctx).WithField("containers", n).Debug("shutdown: still serving containers")
		return empty, nil
	}
	s.sd.Shutdown()
	return empty, nil
}

// publishDelete sends TaskDelete for a removed init process.
func (s *service) publishDelete(c *container, st *driver.ExitStatus) {
	s.ev.send(&eventstypes.TaskDelete{
		ContainerID: c.id, Pid: c.init.getPid(), ExitStatus: st.Code, ExitedAt: protobuf.ToTimestamp(st.ExitedAt),
	})
}

// toGRPC keeps an error's errdefs class across ttrpc.
func toGRPC(err error) error {
	if err == nil {
		return nil
	}
	return errgrpc.ToGRPC(err)
}
