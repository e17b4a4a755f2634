package lcmon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	lc "github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runc/libcontainer/utils"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/kit/monitor/proc"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// Backend runs a monitor's workload with libcontainer: the container's init
// (created, waiting for Start) or an exec'd process.
type Backend struct{}

// Root is libcontainer's state root inside a driver's state directory.
func Root(l proc.Layout) string { return filepath.Join(l.Root, "lc") }

// Start creates the container or the exec'd process.
func (b *Backend) Start(m *proc.Monitor) (int, error) {
	if m.Req.ExecID == "" {
		return b.startInit(m)
	}
	return b.startExec(m)
}

func (b *Backend) startInit(m *proc.Monitor) (_ int, retErr error) {
	id := m.Req.ID
	spec, err := ocispec.Load(m.Req.Bundle)
	if err != nil {
		return 0, err
	}
	if spec.Process == nil {
		return 0, invalidf("bundle %s: config.json has no process", m.Req.Bundle)
	}
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	join, err := joinOf(&m.Req)
	if err != nil {
		return 0, err
	}
	applyJoin(spec, id, join)
	if spec.Linux.CgroupsPath == "" {
		spec.Linux.CgroupsPath = ocispec.CgroupsPath(m.Layout.Root, id)
	}
	// specconv resolves a relative root.path against the working directory.
	if err := os.Chdir(m.Req.Bundle); err != nil {
		return 0, invalidf("bundle %s: %v", m.Req.Bundle, err)
	}
	config, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: id, Spec: spec})
	if err != nil {
		return 0, invalidf("bundle %s: %v", m.Req.Bundle, err)
	}
	runcCompat(config)
	for k, v := range m.Req.Annotations {
		config.Labels = append(config.Labels, k+"="+v)
	}
	config.Labels = append(config.Labels, "bundle="+m.Req.Bundle)
	c, err := lc.Create(Root(m.Layout), id, config)
	if err != nil {
		if errors.Is(err, lc.ErrExist) {
			return 0, alreadyExistsf("create %s: a container with this id already exists", id)
		}
		return 0, fmt.Errorf("create container %s: %w", id, err)
	}
	defer func() {
		if retErr != nil {
			_ = c.Destroy()
		}
	}()
	p, err := newProcess(spec.Process)
	if err != nil {
		return 0, err
	}
	p.Init = true
	pid, err := b.run(m, p, c.Start)
	if err != nil {
		return 0, err
	}
	m.Exit.OOMFiles = oomFiles(c)
	return pid, nil
}

func (b *Backend) startExec(m *proc.Monitor) (int, error) {
	c, err := lc.Load(Root(m.Layout), m.Req.ID)
	if err != nil {
		return 0, notFoundf("exec in %s: no such container", m.Req.ID)
	}
	if m.Req.Process == nil {
		return 0, invalidf("exec %s in %s: no process given", m.Req.ExecID, m.Req.ID)
	}
	p, err := newProcess(m.Req.Process)
	if err != nil {
		return 0, err
	}
	return b.run(m, p, c.Run)
}

// run wires stdio (pipes or a terminal) and starts p with startFn.
func (b *Backend) run(m *proc.Monitor, p *lc.Process, startFn func(*lc.Process) error) (int, error) {
	var recv chan error
	if m.Terminal() {
		parent, child, err := utils.NewSockPair("console")
		if err != nil {
			return 0, err
		}
		defer parent.Close()
		p.ConsoleSocket = child
		m.CloseAfterStart(child)
		recv = make(chan error, 1)
		go func() {
			master, err := utils.RecvFile(parent)
			if err == nil {
				err = m.AttachConsole(master)
			}
			recv <- err
		}()
	} else {
		in, out, errw, err := m.Stdio()
		if err != nil {
			return 0, err
		}
		if in != nil {
			p.Stdin = in
		}
		if out != nil {
			p.Stdout = out
		}
		if errw != nil {
			p.Stderr = errw
		}
	}
	if err := startFn(p); err != nil {
		return 0, startError(m.Req.ID, err)
	}
	pid, err := p.Pid()
	if err != nil {
		return 0, err
	}
	if recv != nil {
		if err := <-recv; err != nil {
			_ = p.Signal(unix.SIGKILL)
			return 0, fmt.Errorf("receive terminal of %s: %w", m.Req.ID, err)
		}
	}
	return pid, nil
}

// oomFiles are the OOM-kill counters of the container's memory cgroup
// (memory.oom_control on v1, memory.events on v2), which the watch reads
// when the init has exited.
func oomFiles(c *lc.Container) []string {
	state, err := c.State()
	if err != nil {
		return nil
	}
	var files []string
	if p := state.CgroupPaths["memory"]; p != "" {
		files = append(files, filepath.Join(p, "memory.oom_control"))
	}
	if p := state.CgroupPaths[""]; p != "" {
		files = append(files, filepath.Join(p, "memory.events"))
	}
	return files
}

// startError classifies a libcontainer start failure. A command that
// cannot be run is the caller's mistake, in docker's two classes: not found
// (NotFound, rtd exits 127) and found but not runnable: a directory, no
// execute permission, not an executable format (PermissionDenied, 126).
// libcontainer's init looks the command up first (exec.LookPath: `exec:
// "NAME": ...`) and its words are all it reports. Another file that cannot
// be found or opened (the working directory, a mount source) is
// InvalidArgument.
func startError(id string, err error) error {
	msg := strings.ToLower(err.Error())
	command := strings.Contains(msg, `exec: "`) || strings.Contains(msg, "exec format error")
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(msg, w) {
				return true
			}
		}
		return false
	}
	switch {
	case command && has("executable file not found", "no such file or directory", "not a directory"):
		return notFoundf("start %s: the command was not found: %v", id, err)
	case command && has("is a directory", "permission denied", "exec format error"):
		return permissionDeniedf("start %s: the command cannot be executed: %v", id, err)
	case has("no such file or directory", "permission denied", "not a directory"):
		return invalidf("start %s: %v", id, err)
	}
	return fmt.Errorf("start %s: %w", id, err)
}

// Abort destroys what Start created for a workload the monitor could not
// register: the container's libcontainer state and cgroups (an exec leaves
// nothing of its own).
func (b *Backend) Abort(m *proc.Monitor) {
	if m.Req.ExecID != "" {
		return
	}
	if c, err := lc.Load(Root(m.Layout), m.Req.ID); err == nil {
		_ = c.Signal(unix.SIGKILL)
		_ = c.Destroy()
	}
}

// QuickExitWindow lets the monitor of a container's init whose attached,
// non-interactive workload ends within a second watch it to its end itself
// instead of re-executing into rtd-monitor (proc.QuickExiter): the linux
// driver sends an init's monitor no control request but "wait" (it signals
// the init through libcontainer; resize and closeio concern terminals and
// stdin, which never get the window), so nothing waits on the window. An
// exec's monitor re-executes at once: Kill of an exec is a control request.
func (b *Backend) QuickExitWindow(m *proc.Monitor) time.Duration {
	if m.Req.ExecID != "" {
		return 0
	}
	return quickExitWindow
}

// StartedWhenGone is the init's exec.fifo, which libcontainer removes in
// Start (proc.QuickExitStarter): the window counts from Start, not from
// Create's start report.
func (b *Backend) StartedWhenGone(m *proc.Monitor) string {
	if m.Req.ExecID != "" {
		return ""
	}
	return filepath.Join(Root(m.Layout), m.Req.ID, execFifo)
}

// execFifo is libcontainer's exec.fifo in a container's state directory:
// its init blocks opening it until Start reads it, then Start removes it.
const execFifo = "exec.fifo"

// quickExitWindow covers a short command from its Start on a loaded
// machine; a workload that writes output ends the wait at once
// (proc.Monitor.endedQuickly).
const quickExitWindow = time.Second
