//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// The stand-in is this binary again, started with standinEnv set. It
// inherits the caller's stdio (the driver's monitor opens them through
// /proc/STANDIN/fd/N, so they stay reachable after rtd-runc exits), waits
// for the workload to end and exits with its status. Descriptor 3 is the
// control pipe: rtd-runc writes the workload's host pid once the driver
// created it, or closes the pipe without a word when create failed.
const (
	standinEnv   = "RTD_RUNC_STANDIN"
	standinCtlFd = 3
	standinTtyFd = 4
)

// standin is rtd-runc's handle on a started stand-in.
type standin struct {
	cmd *exec.Cmd
	ctl *os.File
}

// startStandin starts the stand-in for process execID ("" for the init
// process) of container id; tty, when not nil, is the slave of the
// terminal handed to the caller, which becomes the stand-in's controlling
// terminal (so resizes reach it as SIGWINCH).
func startStandin(root, driverPath, id, execID string, tty *os.File) (*standin, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cmd := exec.Command(self)
	cmd.Args = []string{"rtd-runc-standin", id}
	cmd.Env = append(os.Environ(), standinEnv+"=1", rootEnv+"="+root, "RTD_RUNC_DRIVER_PATH="+driverPath,
		"RTD_RUNC_ID="+id, "RTD_RUNC_EXEC_ID="+execID)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{r}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if tty != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, tty)
		cmd.Env = append(cmd.Env, "RTD_RUNC_TTY=1")
		cmd.SysProcAttr.Setctty = true
		cmd.SysProcAttr.Ctty = standinTtyFd
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start the stand-in process: %w", err)
	}
	return &standin{cmd: cmd, ctl: w}, nil
}

func (s *standin) pid() int { return s.cmd.Process.Pid }

// path is the /proc path of the stand-in's descriptor fd, which the
// driver's monitor opens.
func (s *standin) path(fd int) string {
	return "/proc/" + strconv.Itoa(s.pid()) + "/fd/" + strconv.Itoa(fd)
}

// commit tells the stand-in the workload's pid; it now runs on its own.
func (s *standin) commit(pid uint32) error {
	defer s.ctl.Close()
	_, err := fmt.Fprintf(s.ctl, "%d\n", pid)
	return err
}

// abort ends a stand-in whose container was not created, and reaps it.
func (s *standin) abort() {
	s.ctl.Close()
	_ = s.cmd.Wait()
}

// wait waits for a stand-in rtd-runc keeps as its child (run, exec without
// --detach) and returns its exit code.
func (s *standin) wait() int {
	err := s.cmd.Wait()
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return 255
}

// standinMain is the stand-in's whole life.
func standinMain() int {
	id, execID := os.Getenv("RTD_RUNC_ID"), os.Getenv("RTD_RUNC_EXEC_ID")
	root, driverPath := os.Getenv(rootEnv), os.Getenv("RTD_RUNC_DRIVER_PATH")
	ctl := os.NewFile(standinCtlFd, "ctl")
	var pid int
	if _, err := fmt.Fscanf(ctl, "%d\n", &pid); err != nil {
		return 255 // create failed: rtd-runc closed the pipe
	}
	ctl.Close()
	call := func(fn func(ctx context.Context, d *core.Plugin) error) error {
		ctx := context.Background()
		c := core.New(core.Options{Root: root})
		defer c.Close()
		d, err := c.Driver(ctx, driverPath)
		if err != nil {
			return err
		}
		return fn(ctx, d)
	}
	sigs := make(chan os.Signal, 8)
	forwarded := []os.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGHUP}
	if os.Getenv("RTD_RUNC_TTY") != "" {
		signal.Ignore(unix.SIGHUP) // the caller closing the terminal is not a signal for the workload
		forwarded = forwarded[:5]
		signal.Notify(sigs, unix.SIGWINCH)
		sigs <- unix.SIGWINCH // the size the caller may have set already
	}
	signal.Notify(sigs, forwarded...)
	go func() {
		for sig := range sigs {
			if sig == unix.SIGWINCH {
				ws, err := unix.IoctlGetWinsize(standinTtyFd, unix.TIOCGWINSZ)
				if err != nil || ws.Col == 0 {
					continue
				}
				_ = call(func(ctx context.Context, d *core.Plugin) error {
					return d.ResizePty(ctx, &driver.ResizePtyRequest{ID: id, ExecID: execID, Width: uint32(ws.Col), Height: uint32(ws.Row)})
				})
				continue
			}
			_ = call(func(ctx context.Context, d *core.Plugin) error {
				return d.Kill(ctx, &driver.KillRequest{ID: id, ExecID: execID, Signal: uint32(sig.(syscall.Signal))})
			})
		}
	}()
	if pid > 0 {
		waitPid(pid)
	}
	code := 255
	_ = call(func(ctx context.Context, d *core.Plugin) error {
		st, err := d.Wait(ctx, &driver.WaitRequest{ID: id, ExecID: execID})
		if err == nil {
			code = int(st.Code)
		}
		return err
	})
	return code
}

// waitPid returns once process pid has ended (a pidfd, so that no driver
// process is kept alive while the workload runs).
func waitPid(pid int) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return // gone already
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != unix.EINTR {
			return
		}
	}
}

// endStandin waits, bounded, for the stand-in of a deleted container to
// exit (it does once it has the workload's status), and kills it past the
// bound, so that delete returns with nothing of the container left.
func endStandin(pid int, timeout time.Duration) {
	if pid <= 0 {
		return
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return // gone
	}
	defer unix.Close(fd)
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if !bytes.HasPrefix(cmdline, []byte("rtd-runc-standin\x00")) {
		return // the pid was reused
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, int(timeout.Milliseconds())); err == nil && n > 0 {
		return
	}
	_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
}
