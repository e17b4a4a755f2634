package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
)

// echoID is the container id whose State reports what the driver received
// and answered.
const echoID = "_echo"

type container struct {
	state  driver.State
	rootfs []driver.Mount
	stdio  driver.Stdio
	execs  map[string]uint32
	exited chan struct{}
}

// fake is an in-memory driver: containers are records, processes are pids
// it makes up, and a container runs until it is killed.
type fake struct {
	logger hclog.Logger

	mu         sync.Mutex
	containers map[string]*container
	nextPid    uint32
	echo       map[string]string
	history    []*driver.Event
	subs       map[chan *driver.Event]struct{}
	sandboxes  map[string]*sandbox
}

var _ driver.Driver = (*fake)(nil)

func newFake(logger hclog.Logger) *fake {
	return &fake{
		logger:     logger,
		containers: map[string]*container{},
		nextPid:    1000,
		echo:       map[string]string{},
		subs:       map[chan *driver.Event]struct{}{},
		sandboxes:  map[string]*sandbox{},
	}
}

// record remembers v as JSON under key for the echo hook. Callers hold mu.
func (f *fake) record(key string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf("%q", err.Error()))
	}
	f.echo[key] = string(b)
}

// emit appends an event to the history and sends it to subscribers.
// Callers hold mu; the subscriber channels are large enough for a test.
func (f *fake) emit(ev *driver.Event) {
	f.history = append(f.history, ev)
	for ch := range f.subs {
		select {
		case ch <- ev:
		default:
			f.logger.Warn("event subscriber too slow, dropping event")
		}
	}
}

func now() time.Time { return time.Now().UTC() }

func (f *fake) get(op, id string) (*container, error) {
	if id == "" {
		return nil, driver.InvalidArgumentf("%s: empty container id", op)
	}
	c, ok := f.containers[id]
	if !ok {
		return nil, driver.NotFoundf("%s %s: no such container", op, id)
	}
	return c, nil
}

func (f *fake) Info(context.Context) (*driver.Info, error) {
	info := &driver.Info{
		Name:            "test",
		Version:         "0.1.0-test",
		ContractVersion: driver.ContractVersion,
		OS:              runtime.GOOS,
		Arch:            runtime.GOARCH,
		Isolation: driver.Isolation{
			Class:              driver.IsolationSandbox,
			SharesHostKernel:   true,
			GuestKernel:        "none (fake)",
			SyscallFilter:      "none (fake)",
			UserNamespaces:     true,
			CapabilityModel:    "none: nothing runs",
			Rootless:           true,
			ResourceAccounting: "nowhere",
			Platform:           "memory",
			KnownGaps:          []string{"nothing is isolated", "processes are imaginary"},
		},
		Capabilities: driver.Capabilities{
			Exec: true, Terminal: true, ResizePty: true, CloseIO: true, Pause: true,
			Stats: true, Update: true, Pids: true, Events: true, Checkpoint: true,
			StatsFields: []string{"cpu", "memory", "pids"}, NetworkNamespace: true,
			Sandboxes: true,
		},
		Health: driver.Health{Ready: true, Reason: "fake driver is always ready"},
	}
	// After Serve, os.Stderr is go-plugin's stdio stream, not the real one.
	fmt.Fprintln(os.Stderr, "info called (plain stderr)")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("resp/info", info)
	return info, nil
}

func (f *fake) Create(_ context.Context, req *driver.CreateRequest) (*driver.CreateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/create", req)
	return f.create(req)
}

// create adds a container; callers hold mu.
func (f *fake) create(req *driver.CreateRequest) (*driver.CreateResponse, error) {
	if req.ID == "" || req.ID == echoID {
		return nil, driver.InvalidArgumentf("create: invalid container id %q", req.ID)
	}
	if _, ok := f.containers[req.ID]; ok {
		return nil, driver.AlreadyExistsf("create %s: container exists", req.ID)
	}
	if err := f.joinSandbox(req); err != nil {
		return nil, err
	}
	f.nextPid++
	c := &container{
		state: driver.State{
			ID: req.ID, Bundle: req.Bundle, Status: driver.StatusCreated, Pid: f.nextPid,
			Annotations: req.Annotations, CreatedAt: now(), SandboxID: req.SandboxID,
		},
		rootfs: req.Rootfs,
		stdio:  req.Stdio,
		execs:  map[string]uint32{},
		exited: make(chan struct{}),
	}
	f.containers[req.ID] = c
	f.emit(&driver.Event{Type: driver.EventCreate, ID: req.ID, Pid: c.state.Pid, Timestamp: now()})
	resp := &driver.CreateResponse{Pid: c.state.Pid}
	f.record("resp/create", resp)
	return resp, nil
}

func (f *fake) Start(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/start", id)
	c, err := f.get("start", id)
	if err != nil {
		return err
	}
	switch {
	case c.state.Annotations["testdriver/crash"] != "":
		f.logger.Error("crashing on purpose", "id", id)
		os.Exit(3)
	case c.state.Annotations["testdriver/panic"] != "":
		panic("testdriver: panic on purpose in start " + id)
	case c.state.Annotations["testdriver/unavailable"] != "":
		return driver.Unavailablef("start %s: backend is down on purpose", id)
	}
	if c.state.Status != driver.StatusCreated {
		return driver.FailedPreconditionf("start %s: container is %s, not created", id, c.state.Status)
	}
	c.state.Status = driver.StatusRunning
	f.emit(&driver.Event{Type: driver.EventStart, ID: id, Pid: c.state.Pid, Timestamp: now()})
	return nil
}

func (f *fake) State(_ context.Context, id string) (*driver.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id == echoID {
		echo := make(map[string]string, len(f.echo))
		for k, v := range f.echo {
			echo[k] = v
		}
		return &driver.State{ID: echoID, Status: driver.StatusUnknown, Annotations: echo}, nil
	}
	f.record("req/state", id)
	c, err := f.get("state", id)
	if err != nil {
		return nil, err
	}
	st := c.state
	f.record("resp/state", &st)
	return &st, nil
}

func (f *fake) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	f.mu.Lock()
	f.record("req/wait", req)
	c, err := f.get("wait", req.ID)
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("wait %s: %w", req.ID, ctx.Err())
	case <-c.exited:
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	exit := *c.state.Exit
	f.record("resp/wait", &exit)
	return &exit, nil
}

// stop ends a container's init process; callers hold mu.
func (f *fake) stop(c *container, signal uint32) {
	if c.state.Status == driver.StatusStopped {
		return
	}
	c.state.Status = driver.StatusStopped
	c.state.Exit = &driver.ExitStatus{
		Code:      128 + signal,
		Signal:    int32(signal),
		OOMKilled: c.state.Annotations["testdriver/oom"] != "",
		ExitedAt:  now(),
		Reason:    fmt.Sprintf("killed by signal %d", signal),
	}
	close(c.exited)
	exit := *c.state.Exit
	f.emit(&driver.Event{Type: driver.EventExit, ID: c.state.ID, Pid: c.state.Pid, Exit: &exit, Timestamp: now()})
}

func (f *fake) Kill(_ context.Context, req *driver.KillRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/kill", req)
	c, err := f.get("kill", req.ID)
	if err != nil {
		return err
	}
	if req.Signal == 0 || req.Signal > 64 {
		return driver.InvalidArgumentf("kill %s: invalid signal %d", req.ID, req.Signal)
	}
	if c.state.Status == driver.StatusStopped {
		return driver.FailedPreconditionf("kill %s: container is stopped", req.ID)
	}
	f.stop(c, req.Signal)
	return nil
}

func (f *fake) Delete(_ context.Context, req *driver.DeleteRequest) (*driver.ExitStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/delete", req)
	c, err := f.get("delete", req.ID)
	if err != nil {
		return nil, err
	}
	if c.state.Status != driver.StatusStopped && c.state.Status != driver.StatusCreated {
		if !req.Force {
			return nil, driver.FailedPreconditionf("delete %s: container is %s", req.ID, c.state.Status)
		}
		f.stop(c, 9)
	}
	delete(f.containers, req.ID)
	f.emit(&driver.Event{Type: driver.EventDelete, ID: req.ID, Pid: c.state.Pid, Exit: c.state.Exit, Timestamp: now()})
	f.record("resp/delete", c.state.Exit)
	return c.state.Exit, nil
}

func (f *fake) List(context.Context) ([]*driver.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*driver.State, 0, len(f.containers))
	for _, c := range f.containers {
		st := c.state
		out = append(out, &st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	f.record("resp/list", out)
	return out, nil
}

func (f *fake) running(op, id string) (*container, error) {
	c, err := f.get(op, id)
	if err != nil {
		return nil, err
	}
	if c.state.Status != driver.StatusRunning {
		return nil, driver.FailedPreconditionf("%s %s: container is %s, not running", op, id, c.state.Status)
	}
	return c, nil
}

func (f *fake) Exec(_ context.Context, req *driver.ExecRequest) (*driver.ExecResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/exec", req)
	c, err := f.running("exec", req.ID)
	if err != nil {
		return nil, err
	}
	if req.ExecID == "" || req.Process == nil || len(req.Process.Args) == 0 {
		return nil, driver.InvalidArgumentf("exec %s: exec id and process args are required", req.ID)
	}
	if _, ok := c.execs[req.ExecID]; ok {
		return nil, driver.AlreadyExistsf("exec %s: exec id %s exists", req.ID, req.ExecID)
	}
	f.nextPid++
	c.execs[req.ExecID] = f.nextPid
	f.emit(&driver.Event{Type: driver.EventExec, ID: req.ID, ExecID: req.ExecID, Pid: f.nextPid, Timestamp: now()})
	resp := &driver.ExecResponse{Pid: f.nextPid}
	f.record("resp/exec", resp)
	return resp, nil
}

func (f *fake) ResizePty(_ context.Context, req *driver.ResizePtyRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/resizepty", req)
	_, err := f.running("resize pty", req.ID)
	return err
}

func (f *fake) CloseIO(_ context.Context, req *driver.CloseIORequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/closeio", req)
	_, err := f.get("close io", req.ID)
	return err
}

func (f *fake) Pause(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/pause", id)
	c, err := f.running("pause", id)
	if err != nil {
		return err
	}
	c.state.Status = driver.StatusPaused
	f.emit(&driver.Event{Type: driver.EventPause, ID: id, Pid: c.state.Pid, Timestamp: now()})
	return nil
}

func (f *fake) Resume(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/resume", id)
	c, err := f.get("resume", id)
	if err != nil {
		return err
	}
	if c.state.Status != driver.StatusPaused {
		return driver.FailedPreconditionf("resume %s: container is %s, not paused", id, c.state.Status)
	}
	c.state.Status = driver.StatusRunning
	f.emit(&driver.Event{Type: driver.EventResume, ID: id, Pid: c.state.Pid, Timestamp: now()})
	return nil
}

func (f *fake) Stats(_ context.Context, id string) (*driver.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/stats", id)
	c, err := f.get("stats", id)
	if err != nil {
		return nil, err
	}
	st := &driver.Stats{
		Fields:           []string{"cpu", "memory", "pids"},
		CPUUsageNanos:    123456789,
		MemoryUsageBytes: 4 << 20,
		MemoryLimitBytes: 64 << 20,
		PidsCurrent:      uint64(1 + len(c.execs)),
		PidsLimit:        100,
	}
	f.record("resp/stats", st)
	return st, nil
}

func (f *fake) Update(_ context.Context, req *driver.UpdateRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/update", req)
	if _, err := f.running("update", req.ID); err != nil {
		return err
	}
	if req.Resources == nil {
		return driver.InvalidArgumentf("update %s: no resources", req.ID)
	}
	return nil
}

func (f *fake) Pids(_ context.Context, id string) ([]driver.ProcessInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/pids", id)
	c, err := f.get("pids", id)
	if err != nil {
		return nil, err
	}
	out := []driver.ProcessInfo{{Pid: c.state.Pid}}
	for execID, pid := range c.execs {
		out = append(out, driver.ProcessInfo{Pid: pid, ExecID: execID})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pid < out[j].Pid })
	f.record("resp/pids", out)
	return out, nil
}

// Events replays the history, then streams new events, until ctx is done.
func (f *fake) Events(ctx context.Context, fn func(*driver.Event) error) error {
	ch := make(chan *driver.Event, 1024)
	f.mu.Lock()
	past := append([]*driver.Event(nil), f.history...)
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.subs, ch)
		f.mu.Unlock()
	}()
	for _, ev := range past {
		if err := fn(ev); err != nil {
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev := <-ch:
			if err := fn(ev); err != nil {
				return err
			}
		}
	}
}

func (f *fake) Checkpoint(_ context.Context, req *driver.CheckpointRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/checkpoint", req)
	c, err := f.running("checkpoint", req.ID)
	if err != nil {
		return err
	}
	if req.Path == "" {
		return driver.InvalidArgumentf("checkpoint %s: empty path", req.ID)
	}
	if !req.LeaveRunning {
		f.stop(c, 9)
	}
	return nil
}

func (f *fake) Restore(_ context.Context, req *driver.RestoreRequest) (*driver.CreateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("req/restore", req)
	if req.Path == "" {
		return nil, driver.InvalidArgumentf("restore %s: empty path", req.Create.ID)
	}
	resp, err := f.create(&req.Create)
	if err != nil {
		return nil, err
	}
	c := f.containers[req.Create.ID]
	c.state.Status = driver.StatusRunning
	f.emit(&driver.Event{Type: driver.EventStart, ID: req.Create.ID, Pid: c.state.Pid, Timestamp: now()})
	f.record("resp/restore", resp)
	return resp, nil
}

// minimal is a lifecycle-only driver: every optional method comes from the
// embedded Unimplemented.
type minimal struct {
	driver.Unimplemented
}

func (minimal) Info(context.Context) (*driver.Info, error) {
	return &driver.Info{Name: "minimal", ContractVersion: driver.ContractVersion, OS: runtime.GOOS, Arch: runtime.GOARCH,
		Isolation: driver.Isolation{Class: driver.IsolationProcess, SharesHostKernel: true}}, nil
}

func (minimal) Create(_ context.Context, req *driver.CreateRequest) (*driver.CreateResponse, error) {
	return nil, driver.NotFoundf("create %s: bundle %s not found", req.ID, req.Bundle)
}

func (minimal) Start(_ context.Context, id string) error {
	return driver.NotFoundf("start %s: no such container", id)
}

func (minimal) State(_ context.Context, id string) (*driver.State, error) {
	return nil, driver.NotFoundf("state %s: no such container", id)
}

func (minimal) Wait(_ context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	return nil, driver.NotFoundf("wait %s: no such container", req.ID)
}

func (minimal) Kill(_ context.Context, req *driver.KillRequest) error {
	return driver.NotFoundf("kill %s: no such container", req.ID)
}

func (minimal) Delete(_ context.Context, req *driver.DeleteRequest) (*driver.ExitStatus, error) {
	return nil, driver.NotFoundf("delete %s: no such container", req.ID)
}

func (minimal) List(context.Context) ([]*driver.State, error) { return nil, nil }
