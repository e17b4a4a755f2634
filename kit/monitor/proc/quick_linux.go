//go:build linux

package proc

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// QuickExiter is implemented by a backend whose monitors may skip the
// re-execution into the small rtd-monitor binary for a workload that ends
// at once: an attached, non-interactive run such as `rtd run --rm IMAGE
// true`. Starting rtd-monitor costs a Go runtime start (about 5 % of a
// container's CPU on the linux driver, issue 22), and a monitor whose
// workload has already ended has only a few milliseconds of watching left,
// which it does itself. A backend opts in only when no driver call needs its
// monitor's control socket answered while the workload runs (resize,
// closeio and kill requests wait in the socket's backlog until the window
// ends; wait requests are the ones that matter, and they are answered
// either way).
type QuickExiter interface {
	// QuickExitWindow is how long, after the start report, the monitor
	// of m waits for the workload to end before it re-executes (0: not
	// at all).
	QuickExitWindow(m *Monitor) time.Duration
}

// QuickExitStarter is implemented by a QuickExiter whose workload runs
// only once the driver's Start comes, after the start report (libcontainer's
// init waits on its exec.fifo): the window then counts from that Start, so
// that a Start that comes late (many containers starting at once on a
// loaded machine, where the CLI's Start can follow Create by seconds) still
// gets it. The wait for Start is bounded by quickExitStartWait.
type QuickExitStarter interface {
	// StartedWhenGone names a file whose removal means that m's workload
	// was started (libcontainer removes exec.fifo in Start); "" when
	// there is none (the window counts from the start report).
	StartedWhenGone(m *Monitor) string
}

// quickExitStartWait bounds how long a monitor waits for the Start of a
// QuickExitStarter's workload before its window begins anyway: an attached
// run (the only kind that gets a window) sends Start right after Create, so
// only a very loaded machine comes near it.
const quickExitStartWait = 10 * time.Second

// QuickExitEnv overrides a backend's QuickExitWindow for the monitors of
// a driver (a duration such as 300ms; 0 turns the window off): for tests
// and for A/B measurements. A backend without a window gets none.
const QuickExitEnv = "RTD_MONITOR_QUICK_EXIT"

// quickExitGrace is how long the monitor still waits for the exit once the
// workload wrote output or closed it: output is then pumped within this
// long of being written, as when the monitor re-executes at once.
const quickExitGrace = 10 * time.Millisecond

// endedQuickly waits for the workload to end within the backend's window and
// reports whether it did, for a workload that qualifies: its output goes
// to a FIFO that someone reads (an attached run), it has no stdin and no
// terminal. It returns false at once otherwise, and early when the workload
// writes output (after quickExitGrace), so that output never waits for the
// window; an output closed without data only leaves the poll (a workload on
// its way out closes its output before its exit is reported, which on a
// loaded machine can take longer than the grace). Nothing is read or accepted meanwhile: a re-execution after it
// loses no byte and no control request (they wait in the pipes and the
// socket's backlog).
func (m *Monitor) endedQuickly(b Backend) bool {
	window := m.quickWindow(b)
	if window <= 0 {
		return false
	}
	pidfd, err := unix.PidfdOpen(m.pid, 0)
	if err != nil {
		return false
	}
	defer unix.Close(pidfd)
	var outs []int32
	for _, c := range m.io.outputs {
		if fd := fdOf(c.from); fd >= 0 {
			outs = append(outs, int32(fd))
		}
	}
	deadline := time.Now().Add(window)
	start := startWatch{fd: -1}
	if qs, ok := b.(QuickExitStarter); ok {
		start = watchStart(qs.StartedWhenGone(m))
		defer start.close()
		if start.fd >= 0 {
			// Before Start: wait for it (bounded); the window follows.
			deadline = time.Now().Add(quickExitStartWait)
		}
	}
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		for _, fd := range outs {
			fds = append(fds, unix.PollFd{Fd: fd, Events: unix.POLLIN})
		}
		if start.fd >= 0 {
			fds = append(fds, unix.PollFd{Fd: int32(start.fd), Events: unix.POLLIN})
		}
		_, err := unix.Poll(fds, int(left.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false
		}
		if fds[0].Revents != 0 {
			return true
		}
		if start.fd >= 0 && fds[len(fds)-1].Revents != 0 && start.started() {
			start.close()
			deadline = time.Now().Add(window)
		}
		live, output := outs[:0], false
		for i, fd := range outs {
			switch ev := fds[1+i].Revents; {
			case ev&unix.POLLIN != 0:
				output = true
			case ev != 0:
				// Its end without data (the workload closed it, on its
				// way out as a rule): nothing to pump; the window
				// still bounds the wait for the exit.
				continue
			}
			live = append(live, fd)
		}
		outs = live
		if output {
			// Pump it soon: watch for the exit a little longer only,
			// and no longer poll the outputs (the data stays unread).
			outs = nil
			start.close()
			deadline = minTime(deadline, time.Now().Add(quickExitGrace))
		}
	}
}

// quickWindow is how long endedQuickly may wait for b's workload: 0 when
// it does not qualify (no QuickExiter, a terminal, stdin, no live output),
// else the backend's window or $RTD_MONITOR_QUICK_EXIT's.
func (m *Monitor) quickWindow(b Backend) time.Duration {
	q, ok := b.(QuickExiter)
	if !ok || m.Terminal() || m.io.stdin != nil || m.io.console != nil || !m.io.liveOutput() {
		return 0
	}
	window := q.QuickExitWindow(m)
	if v := os.Getenv(QuickExitEnv); v != "" && window > 0 {
		if d, err := time.ParseDuration(v); err == nil && d >= 0 {
			window = d
		}
	}
	return window
}

// startWatch tells when a file goes away (a QuickExitStarter's Start):
// fd is an inotify descriptor on its directory, -1 when there is nothing
// to wait for (no file named, already gone, or inotify failed: then the
// window counts from the start report, as without a QuickExitStarter).
type startWatch struct {
	fd   int
	path string
}

func watchStart(path string) startWatch {
	w := startWatch{fd: -1, path: path}
	if path == "" {
		return w
	}
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return w
	}
	mask := uint32(unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_DELETE_SELF | unix.IN_ONLYDIR)
	if _, err := unix.InotifyAddWatch(fd, filepath.Dir(path), mask); err != nil {
		unix.Close(fd)
		return w
	}
	w.fd = fd
	if w.started() { // gone before the watch began
		w.close()
	}
	return w
}

// started drains the watch's events and reports whether the file is gone.
func (w *startWatch) started() bool {
	var buf [4096]byte
	for {
		if n, err := unix.Read(w.fd, buf[:]); n <= 0 || err != nil {
			break
		}
	}
	_, err := os.Lstat(w.path)
	return errors.Is(err, os.ErrNotExist)
}

func (w *startWatch) close() {
	if w.fd >= 0 {
		unix.Close(w.fd)
		w.fd = -1
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// liveOutput reports whether an output goes to a FIFO, which a reader
// (rtd run, attached) is reading now.
func (s *stdio) liveOutput() bool {
	for _, c := range s.outputs {
		if c.to == nil {
			continue
		}
		if fi, err := c.to.Stat(); err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
			return true
		}
	}
	return false
}
