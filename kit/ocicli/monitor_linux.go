//go:build linux

package ocicli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rtd-project/rtd/kit/monitor"
)

// Backend is the kit/monitor backend of a driver that drives an OCI CLI:
// it runs `Runtime.Create` with the monitor's ends of the container's stdio
// and returns the pid of the container's init, which the monitor (the
// subreaper of the runtime's processes) then watches. The Runtime rides
// in the monitor request's Backend field as JSON (Runtime.Request builds
// the request). Terminals and exec are the driver's to add: a driver
// that needs them wraps Backend or writes its own (drivers/gvisor).
type Backend struct{}

// Reexec runs this process as a monitor with Backend when it was started
// as one, and never returns then. A driver's main calls it first.
func Reexec() {
	if monitor.IsMonitor() {
		os.Exit(monitor.Main(Backend{}))
	}
}

// Start runs `create` and returns the pid of the container's init.
func (Backend) Start(m *monitor.Monitor) (int, error) {
	var rt Runtime
	if err := json.Unmarshal(m.Req.Backend, &rt); err != nil {
		return 0, fmt.Errorf("monitor request for %s without a runtime: %w", m.Req.ID, err)
	}
	in, out, errw, err := m.Stdio()
	if err != nil {
		return 0, err
	}
	if rt.LogDir != "" {
		if err := os.MkdirAll(rt.LogDir, 0o700); err != nil {
			return 0, err
		}
	}
	opts := CreateOpts{IO: FileIO(in, out, errw), PidFile: filepath.Join(m.Dir, "init.pid")}
	pid, err := rt.CreatePid(context.Background(), m.Req.ID, m.Req.Bundle, opts)
	if err != nil {
		return 0, err
	}
	m.Exit.OOMFiles = monitor.OOMFiles(pid)
	return pid, nil
}

// Request is the monitor request that runs container id from bundle with
// this Runtime (Backend's part rides in its Backend field).
func (rt *Runtime) Request(id, bundle string) (monitor.Request, error) {
	data, err := json.Marshal(rt)
	if err != nil {
		return monitor.Request{}, fmt.Errorf("create %s: %w", id, err)
	}
	return monitor.Request{ID: id, Bundle: bundle, Backend: data}, nil
}

// CreatePid runs Create with o.PidFile (which must be set) and returns the
// pid the runtime wrote there: the container's init.
func (rt *Runtime) CreatePid(ctx context.Context, id, bundle string, o CreateOpts) (int, error) {
	if err := rt.Create(ctx, id, bundle, o); err != nil {
		return 0, err
	}
	data, err := os.ReadFile(o.PidFile)
	if err != nil {
		return 0, fmt.Errorf("create %s: %s wrote no pid file: %w", id, rt.Name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, fmt.Errorf("create %s: %s pid file: %w", id, rt.Name, err)
	}
	return pid, nil
}
