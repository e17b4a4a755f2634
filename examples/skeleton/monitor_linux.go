//go:build linux

package skeleton

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rtd-project/rtd/kit/monitor"
	"github.com/rtd-project/rtd/kit/ocicli"
)

// backend is the skeleton's part of a container's monitor (kit/monitor):
// it runs `runc create` with the monitor's ends of the container's stdio.
// The monitor does the rest: it is the subreaper runc's init is handed to,
// copies the stdio, answers the driver on its control socket and records
// the exit status, whatever happens to the driver process.
type backend struct{}

// Reexec runs the monitor and exits when the binary was started as one. A
// driver's main calls it first.
func Reexec() {
	if monitor.IsMonitor() {
		os.Exit(monitor.Main(backend{}))
	}
}

// Start runs `runc create` (the runtime rides in the request's Backend)
// and returns the pid of the container's init.
func (backend) Start(m *monitor.Monitor) (int, error) {
	var rt ocicli.Runtime
	if err := json.Unmarshal(m.Req.Backend, &rt); err != nil {
		return 0, fmt.Errorf("monitor request without a runtime: %w", err)
	}
	in, out, errw, err := m.Stdio()
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(rt.LogDir, 0o700); err != nil {
		return 0, err
	}
	pidFile := filepath.Join(m.Dir, "init.pid")
	opts := ocicli.CreateOpts{IO: ocicli.FileIO(in, out, errw), PidFile: pidFile}
	if err := rt.Create(context.Background(), m.Req.ID, m.Req.Bundle, opts); err != nil {
		return 0, err
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	m.Exit.OOMFiles = oomFiles(pid)
	return pid, err
}

// oomFiles are the cgroup files of pid with its "oom_kill N" counter.
func oomFiles(pid int) []string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		switch {
		case len(parts) != 3:
		case parts[1] == "memory":
			return []string{filepath.Join("/sys/fs/cgroup/memory", parts[2], "memory.oom_control")}
		case parts[0] == "0" && parts[1] == "":
			if _, err := os.Stat("/sys/fs/cgroup/memory"); err != nil { // pure cgroup v2
				return []string{filepath.Join("/sys/fs/cgroup", parts[2], "memory.events")}
			}
		}
	}
	return nil
}
