package gvisor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/containerd/console"
	runc "github.com/containerd/go-runc"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
	"github.com/rtd-project/rtd/kit/monitor"
	"github.com/rtd-project/rtd/kit/monitor/watch"
	"github.com/rtd-project/rtd/kit/ocicli"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// backend runs a monitor's workload with runsc. For the init it runs
// `runsc create` and watches the sandbox process, which becomes the
// monitor's child (subreaper) and exits with the container's status; for an
// exec it runs `runsc exec` in the foreground, which exits with the process's
// status.
type backend struct{}

// Reexec runs this process as a monitor when it was started as one, and
// never returns then. Call it first thing in main.
func Reexec() {
	switch {
	case len(os.Args) == 1 && os.Args[0] == pausePath:
		os.Exit(pause())
	case len(os.Args) > 1 && os.Args[1] == waiterArg:
		os.Exit(waiterMain(os.Args[2:]))
	}
	if monitor.IsMonitor() {
		os.Exit(monitor.Main(backend{}))
	}
}

func (backend) Start(m *monitor.Monitor) (int, error) {
	var cfg runscConfig
	if err := json.Unmarshal(m.Req.Backend, &cfg); err != nil {
		return 0, fmt.Errorf("monitor request without runsc config: %w", err)
	}
	ctx := context.Background()
	m.Exit = exitInfo(m)
	io, err := stdioFor(m)
	if err != nil {
		return 0, err
	}
	defer io.Close()
	if m.Req.ExecID != "" {
		return startExec(m, cfg, io)
	}
	console, err := consoleFor(m)
	if err != nil {
		return 0, err
	}
	pidFile := filepath.Join(m.Dir, "runsc.pid")
	opts := ocicli.CreateOpts{IO: io, PidFile: pidFile}
	if console != nil {
		opts.ConsoleSocket = console.sock
	}
	if err := cfg.forBundle(m.Req.Bundle).runtime().Create(ctx, m.Req.ID, m.Req.Bundle, opts); err != nil {
		return 0, err
	}
	if err := console.attach(m); err != nil {
		return 0, err
	}
	if cfg.Sandbox != "" {
		return startWaiter(m, cfg, io)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, fmt.Errorf("runsc create wrote no pid file: %w", err)
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// startWaiter starts the waiter of a sub-container (waiterMain) with the
// workload's stdio: runsc gives a sub-container the stdio of `runsc start`,
// which the waiter runs. A sub-container has no host process of its own
// (runsc create's pid file names the sandbox's): the monitor watches the
// waiter.
func startWaiter(m *monitor.Monitor, cfg runscConfig, io *fileIO) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	rt := cfg.forBundle(m.Req.Bundle).runtime()
	logFile := filepath.Join(cfg.LogDir, m.Req.ID+".log")
	args := []string{exe, waiterArg, m.Dir, m.Req.ID, logFile, cfg.Binary, "--root", rt.Root}
	args = append(args, rt.GlobalArgs...)
	// The monitor's descriptors without close-on-exec (its start report
	// pipe, the workload's stdio) must not be held open by the waiter:
	// whoever reads them would never see their end. The monitor clears the
	// flag on those it passes on when it re-executes (execWatch).
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return 0, fmt.Errorf("start waiter of %s: %w", m.Req.ID, err)
	}
	// Reexec looks for waiterArg as the first argument.
	cmd := &exec.Cmd{Path: exe, Args: args, Dir: "/"}
	io.Set(cmd)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start waiter of %s: %w", m.Req.ID, err)
	}
	return cmd.Process.Pid, nil
}

// startExec starts `runsc exec` as the monitor's child. In the foreground
// runsc exec ignores --console-socket and uses its own stdio as the
// process's terminal, so a terminal exec gets a pty made here.
func startExec(m *monitor.Monitor, cfg runscConfig, io *fileIO) (int, error) {
	if m.Req.Process == nil {
		return 0, driver.InvalidArgumentf("exec %s in %s: no process given", m.Req.ExecID, m.Req.ID)
	}
	procFile := filepath.Join(m.Dir, "process.json")
	if err := atomicfile.WriteJSON(procFile, m.Req.Process, 0o600); err != nil {
		return 0, err
	}
	rt := cfg.runtime()
	args := append([]string{"--root", rt.Root}, rt.GlobalArgs...)
	logFile, pidFile := filepath.Join(m.Dir, "runsc-exec.log"), filepath.Join(m.Dir, "runsc-exec.pid")
	args = append(args, "--log", logFile, "--log-format=json", "exec", "--process", procFile, "--pid-file", pidFile)
	cmd := exec.Command(cfg.Binary, append(args, m.Req.ID)...)
	io.Set(cmd)
	if m.Terminal() {
		master, replica, err := console.NewPty()
		if err != nil {
			return 0, fmt.Errorf("exec %s: allocate pty: %w", m.Req.ID, err)
		}
		slave, err := os.OpenFile(replica, os.O_RDWR, 0)
		if err != nil {
			master.Close()
			return 0, err
		}
		defer slave.Close()
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
		fd, err := unix.Dup(int(master.Fd()))
		master.Close()
		if err != nil {
			return 0, err
		}
		if err := m.AttachConsole(os.NewFile(uintptr(fd), "pty-master")); err != nil {
			return 0, err
		}
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("runsc exec: %w", err)
	}
	if err := awaitExec(cmd, "exec "+m.Req.ExecID, pidFile, logFile); err != nil {
		return 0, err
	}
	return cmd.Process.Pid, nil
}

// exitInfo says how the watch completes the status: the sandbox (and runsc
// exec) report a process killed by a signal as exit code 128+signal; the
// sandbox's memory cgroup (v1 or v2) tells whether the OOM killer struck.
func exitInfo(m *monitor.Monitor) watch.ExitInfo {
	info := watch.ExitInfo{SignalFromCode: true}
	if m.Req.ExecID == "" {
		// A sub-container has no cgroup of its own (adaptMember).
		if spec, err := ocispec.Load(m.Req.Bundle); err == nil && spec.Linux != nil && spec.Linux.CgroupsPath != "" {
			info.OOMFiles = []string{
				filepath.Join("/sys/fs/cgroup/memory", spec.Linux.CgroupsPath, "memory.oom_control"),
				filepath.Join("/sys/fs/cgroup", spec.Linux.CgroupsPath, "memory.events"),
			}
		}
	}
	return info
}

// fileIO hands a runtime command the workload's ends of the monitor's
// pipes. Never a host device node: runsc gives its stdio to the sandbox's
// user (nobody) and chowns it, so a stream with no host path (the /dev/null
// of other drivers) is a pipe too, at EOF or discarded (Monitor.NullStdio).
type fileIO struct {
	in, out, err *os.File
}

func stdioFor(m *monitor.Monitor) (*fileIO, error) {
	var in, out, errw *os.File
	if !m.Terminal() {
		var err error
		if in, out, errw, err = m.Stdio(); err != nil {
			return nil, err
		}
	}
	in, out, errw, err := m.NullStdio(in, out, errw)
	if err != nil {
		return nil, err
	}
	return &fileIO{in: in, out: out, err: errw}, nil
}

// Close is a no-op: the monitor closes the workload's ends after Start.
func (f *fileIO) Close() error          { return nil }
func (f *fileIO) Stdin() io.WriteCloser { return nil }
func (f *fileIO) Stdout() io.ReadCloser { return nil }
func (f *fileIO) Stderr() io.ReadCloser { return nil }
func (f *fileIO) Set(cmd *exec.Cmd)     { cmd.Stdin, cmd.Stdout, cmd.Stderr = f.in, f.out, f.err }

var _ runc.IO = (*fileIO)(nil)

// consoleSock receives the pty master runsc creates for a terminal.
type consoleSock struct {
	sock   *runc.Socket
	master chan error
}

func consoleFor(m *monitor.Monitor) (*consoleSock, error) {
	if !m.Terminal() {
		return nil, nil
	}
	sock, err := runc.NewTempConsoleSocket()
	if err != nil {
		return nil, err
	}
	c := &consoleSock{sock: sock, master: make(chan error, 1)}
	go func() {
		cons, err := sock.ReceiveMaster()
		if err == nil {
			// Own a duplicate: cons closes its descriptor when collected.
			var fd int
			if fd, err = unix.Dup(int(cons.Fd())); err == nil {
				cons.Close()
				err = m.AttachConsole(os.NewFile(uintptr(fd), "pty-master"))
			}
		}
		c.master <- err
	}()
	return c, nil
}

// attach waits for the master (nil-safe: no terminal, nothing to do).
func (c *consoleSock) attach(m *monitor.Monitor) error {
	if c == nil {
		return nil
	}
	defer c.sock.Close()
	if err := <-c.master; err != nil {
		return fmt.Errorf("receive terminal of %s: %w", m.Req.ID, err)
	}
	return nil
}
