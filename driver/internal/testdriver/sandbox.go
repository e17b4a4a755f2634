package main

import (
	"context"
	"sort"

	"github.com/rtd-project/rtd/driver"
)

// sandbox is a fake sandbox: a record whose containers are those created
// with its id.
type sandbox struct {
	state   driver.Sandbox
	spec    *driver.SandboxSpec
	stopped chan struct{}
}

var _ driver.SandboxDriver = (*fake)(nil)

// joinSandbox checks the sandbox a container is created in; callers hold mu.
func (f *fake) joinSandbox(req *driver.CreateRequest) error {
	if req.SandboxID == "" {
		return nil
	}
	sb, ok := f.sandboxes[req.SandboxID]
	if !ok {
		return driver.NotFoundf("create %s: no such sandbox %s", req.ID, req.SandboxID)
	}
	if sb.state.Status != driver.StatusRunning {
		return driver.FailedPreconditionf("create %s: sandbox %s is %s, not running", req.ID, req.SandboxID, sb.state.Status)
	}
	return nil
}

func (f *fake) sandbox(op, id string) (*sandbox, error) {
	sb, ok := f.sandboxes[id]
	if !ok {
		return nil, driver.NotFoundf("%s %s: no such sandbox", op, id)
	}
	return sb, nil
}

// snapshot returns sb's state with its containers filled in; callers hold mu.
func (f *fake) snapshot(sb *sandbox) *driver.Sandbox {
	st := sb.state
	st.Containers = nil
	for id, c := range f.containers {
		if c.state.SandboxID == st.ID {
			st.Containers = append(st.Containers, id)
		}
	}
	sort.Strings(st.Containers)
	return &st
}

func (f *fake) CreateSandbox(_ context.Context, spec *driver.SandboxSpec) (*driver.Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/createsandbox", spec)
	if spec.ID == "" {
		return nil, driver.InvalidArgumentf("create sandbox: empty id")
	}
	if _, ok := f.sandboxes[spec.ID]; ok {
		return nil, driver.AlreadyExistsf("create sandbox %s: sandbox exists", spec.ID)
	}
	f.nextPid++
	netns := spec.NetNSPath
	if netns == "" {
		netns = "/proc/" + "fake" + "/ns/net"
	}
	sb := &sandbox{
		state: driver.Sandbox{
			ID: spec.ID, Status: driver.StatusCreated, Pid: f.nextPid, NetNSPath: netns,
			Annotations: spec.Annotations, CreatedAt: now(), Hostname: spec.Hostname,
			CgroupPath: spec.CgroupParent + "/" + spec.ID,
		},
		spec:    spec,
		stopped: make(chan struct{}),
	}
	f.sandboxes[spec.ID] = sb
	st := f.snapshot(sb)
	f.record("resp/createsandbox", st)
	return st, nil
}

func (f *fake) StartSandbox(_ context.Context, id string) (*driver.Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sb, err := f.sandbox("start sandbox", id)
	if err != nil {
		return nil, err
	}
	if sb.state.Status != driver.StatusCreated {
		return nil, driver.FailedPreconditionf("start sandbox %s: sandbox is %s", id, sb.state.Status)
	}
	sb.state.Status = driver.StatusRunning
	return f.snapshot(sb), nil
}

func (f *fake) SandboxStatus(_ context.Context, id string) (*driver.Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sb, err := f.sandbox("sandbox status", id)
	if err != nil {
		return nil, err
	}
	st := f.snapshot(sb)
	f.record("resp/sandboxstatus", st)
	return st, nil
}

func (f *fake) WaitSandbox(ctx context.Context, id string) (*driver.ExitStatus, error) {
	f.mu.Lock()
	sb, err := f.sandbox("wait sandbox", id)
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case <-sb.stopped:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	exit := *sb.state.Exit
	return &exit, nil
}

// stopSandbox stops sb and its containers; callers hold mu.
func (f *fake) stopSandbox(sb *sandbox) {
	for _, c := range f.containers {
		if c.state.SandboxID == sb.state.ID {
			f.stop(c, 15)
		}
	}
	if sb.state.Status == driver.StatusStopped {
		return
	}
	sb.state.Status = driver.StatusStopped
	sb.state.Exit = &driver.ExitStatus{Code: 137, Signal: 9, ExitedAt: now(), Reason: "sandbox stopped",
		OOMKilled: sb.spec.Annotations["testdriver/oom"] != ""}
	close(sb.stopped)
}

func (f *fake) StopSandbox(_ context.Context, req *driver.StopSandboxRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/stopsandbox", req)
	sb, err := f.sandbox("stop sandbox", req.ID)
	if err != nil {
		return err
	}
	f.stopSandbox(sb)
	return nil
}

func (f *fake) ShutdownSandbox(_ context.Context, req *driver.ShutdownSandboxRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/shutdownsandbox", req)
	sb, err := f.sandbox("shutdown sandbox", req.ID)
	if err != nil {
		return err
	}
	for id, c := range f.containers {
		if c.state.SandboxID == req.ID && c.state.Status != driver.StatusStopped && !req.Force {
			return driver.FailedPreconditionf("shutdown sandbox %s: container %s is %s (force to kill it)", req.ID, id, c.state.Status)
		}
	}
	f.stopSandbox(sb)
	for id, c := range f.containers {
		if c.state.SandboxID == req.ID {
			delete(f.containers, id)
		}
	}
	delete(f.sandboxes, req.ID)
	return nil
}

func (f *fake) ListSandboxes(context.Context) ([]*driver.Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*driver.Sandbox, 0, len(f.sandboxes))
	for _, sb := range f.sandboxes {
		out = append(out, f.snapshot(sb))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	f.record("resp/listsandboxes", out)
	return out, nil
}

func (f *fake) SandboxMetrics(_ context.Context, id string) (*driver.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.sandbox("sandbox metrics", id); err != nil {
		return nil, err
	}
	st := &driver.Stats{Fields: []string{"cpu", "memory", "pids"}, CPUUsageNanos: 1, MemoryUsageBytes: 2,
		MemoryLimitBytes: 3, PidsCurrent: 4, PidsLimit: 5}
	f.record("resp/sandboxmetrics", st)
	return st, nil
}
