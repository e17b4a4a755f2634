//go:build linux

package monitor

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
)

// Name is the process name of every monitor (its comm and argv[0]), so
// operators and tests can tell monitors from driver processes.
const Name = "rtd-monitor"

// drainLimit bounds how long a monitor waits, after the workload exited, for
// output still held by processes that escaped it (no private pid namespace).
const drainLimit = 5 * time.Second

// Backend starts one workload for a monitor.
type Backend interface {
	// Start creates the workload described by m.Req (set up stdio with
	// m.Stdio or m.AttachConsole) and returns the host pid whose end is the
	// workload's end. That process must be a child of the monitor, or
	// become one (the monitor is a subreaper) once Start returns.
	Start(m *Monitor) (pid int, err error)
	// Exited completes the status once the pid was reaped (e.g. OOM kills).
	Exited(m *Monitor, st *driver.ExitStatus)
}

// startReport is what a monitor tells the driver once the workload exists.
type startReport struct {
	Pid   int    `json:",omitempty"`
	Error string `json:",omitempty"`
	Class string `json:",omitempty"` // errdefs class name of Error
}

// Monitor owns one workload process: a container's init or an exec.
type Monitor struct {
	Layout Layout
	// Dir is the process dir; Req is its request.json.
	Dir string
	Req Request

	io      stdio
	console console.Console
	pid     int
	exited  chan struct{} // closed when the workload has ended
	written chan struct{} // closed when exit.json is on disk
	waiters sync.WaitGroup
	status  driver.ExitStatus
}

// IsMonitor reports whether this process was started as a monitor.
func IsMonitor() bool { return len(os.Args) == 3 && os.Args[0] == Name }

// Main is the monitor process's main: "rtd-monitor STATE PROCDIR", with fd
// 3 the pipe on which the start report goes back to the driver. It returns
// the monitor's exit code.
func Main(b Backend) int {
	// The main thread's name is what ps and /proc/PID/comm show.
	_ = os.WriteFile("/proc/self/comm", []byte(Name), 0)
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	reportPipe := os.NewFile(3, "report")
	m := &Monitor{
		Layout: Layout{Root: os.Args[1]}, Dir: os.Args[2],
		exited: make(chan struct{}), written: make(chan struct{}),
	}
	if err := m.start(b); err != nil {
		writeReport(reportPipe, startReport{Error: err.Error(), Class: ErrorClass(err)})
		return 1
	}
	sock := m.Layout.SocketPath(m.Req.ID, m.Req.ExecID)
	ln, lerr := listenControl(sock)
	writeReport(reportPipe, startReport{Pid: m.pid})
	go m.reap(b)
	if lerr == nil {
		go m.serveControl(ln)
	}
	<-m.exited
	m.io.drain(drainLimit)
	if m.console != nil {
		m.console.Close()
	}
	if err := WriteJSONAtomic(filepath.Join(m.Dir, "exit.json"), m.status); err != nil {
		fmt.Fprintf(os.Stderr, "write exit status: %v\n", err)
	}
	close(m.written)
	m.flushWaiters()
	if ln != nil {
		ln.Close()
		os.Remove(sock)
	}
	return 0
}

func writeReport(f *os.File, r startReport) {
	_ = json.NewEncoder(f).Encode(r)
	f.Close()
}

func (m *Monitor) start(b Backend) error {
	if err := ReadJSON(filepath.Join(m.Dir, "request.json"), &m.Req); err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	pid, err := b.Start(m)
	m.io.closeAfterStart()
	if err != nil {
		return err
	}
	m.pid = pid
	st, err := ProcessStartTime(pid)
	if err != nil {
		return fmt.Errorf("workload pid %d vanished: %w", pid, err)
	}
	rec := PidRecord{Pid: pid, StartTime: st}
	return os.WriteFile(filepath.Join(m.Dir, "pid"), []byte(rec.String()), 0o600)
}

// Terminal reports whether the workload wants a terminal.
func (m *Monitor) Terminal() bool {
	return m.Req.Stdio.Terminal || (m.Req.Process != nil && m.Req.Process.Terminal)
}

// Stdio makes pipes for a workload without a terminal and returns the
// workload's ends (nil for /dev/null). The monitor copies between them and
// the host paths of the request and closes the workload's ends in the
// monitor after Start.
func (m *Monitor) Stdio() (in, out, errw *os.File, err error) {
	s := m.Req.Stdio
	in, out, errw, err = m.io.pipeStdio(s.Stdin, s.Stdout, s.Stderr)
	if err != nil {
		return nil, nil, nil, driver.InvalidArgumentf("stdio of %s: %v", m.Req.ID, err)
	}
	return in, out, errw, nil
}

// CloseAfterStart registers workload-side files the monitor closes once
// Start returned (e.g. the child end of a console socket).
func (m *Monitor) CloseAfterStart(f *os.File) { m.io.closers = append(m.io.closers, f) }

// AttachConsole takes the pty master of a terminal workload and connects
// it to the host paths: master to stdout, stdin to master.
func (m *Monitor) AttachConsole(master *os.File) error {
	cons, err := console.ConsoleFromFile(master)
	if err != nil {
		master.Close()
		return err
	}
	m.console = cons
	s := m.Req.Stdio
	dst, err := openOutput(s.Stdout)
	if err != nil {
		return err
	}
	m.io.copyOutput(dst, master)
	if s.Stdin != "" {
		m.io.copyInput(s.Stdin, nopCloser{cons})
	}
	return nil
}

type nopCloser struct{ console.Console }

func (nopCloser) Close() error { return nil }

// reap waits for every child (the monitor is a subreaper) and records the
// workload's status when its pid ends.
func (m *Monitor) reap(b Backend) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			m.finish(driver.ExitStatus{Code: 255, Reason: "workload status lost: " + err.Error()})
			return
		}
		if pid != m.pid {
			continue
		}
		st := driver.ExitStatus{}
		switch {
		case ws.Exited():
			st.Code = uint32(ws.ExitStatus())
		case ws.Signaled():
			st.Signal = int32(ws.Signal())
			st.Code = 128 + uint32(ws.Signal())
		}
		b.Exited(m, &st)
		reapRest(orphanLimit)
		m.finish(st)
		return
	}
}

// orphanLimit bounds how long a monitor waits, after the workload ended,
// for the other children it adopted (runsc's gofer, say) to exit, so that
// the backend is quiet when the exit status is reported.
const orphanLimit = 2 * time.Second

// reapRest reaps remaining children until there are none or limit passed.
func reapRest(limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		switch {
		case err == unix.EINTR || pid > 0:
			continue
		case err != nil: // ECHILD: none left
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (m *Monitor) finish(st driver.ExitStatus) {
	st.ExitedAt = time.Now().UTC()
	m.status = st
	close(m.exited)
}
