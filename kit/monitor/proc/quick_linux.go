//go:build linux

package proc

import (
	"errors"
	"os"
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
// window. Nothing is read or accepted meanwhile: a re-execution after it
// loses no byte and no control request (they wait in the pipes and the
// socket's backlog).
func (m *Monitor) endedQuickly(b Backend) bool {
	q, ok := b.(QuickExiter)
	if !ok || m.Terminal() || m.io.stdin != nil || m.io.console != nil || !m.io.liveOutput() {
		return false
	}
	window := q.QuickExitWindow(m)
	if v := os.Getenv(QuickExitEnv); v != "" && window > 0 {
		if d, err := time.ParseDuration(v); err == nil && d >= 0 {
			window = d
		}
	}
	if window <= 0 {
		return false
	}
	pidfd, err := unix.PidfdOpen(m.pid, 0)
	if err != nil {
		return false
	}
	defer unix.Close(pidfd)
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	for _, c := range m.io.outputs {
		if fd := fdOf(c.from); fd >= 0 {
			fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		}
	}
	deadline := time.Now().Add(window)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		n, err := unix.Poll(fds, int(left.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false
		}
		if fds[0].Revents != 0 {
			return true
		}
		if n > 0 && len(fds) > 1 {
			// Output (or its end): pump it soon; watch for the exit a
			// little longer only.
			fds = fds[:1]
			deadline = minTime(deadline, time.Now().Add(quickExitGrace))
		}
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
