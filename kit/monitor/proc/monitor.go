//go:build linux

package proc

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/kit/logfile"
	"github.com/rtd-project/rtd/kit/monitor/watch"
)

// Name is the process name of every monitor (its comm and argv[0]), so
// operators and tests can tell monitors from driver processes.
const Name = "rtd-monitor"

// WatchBinaryEnv names the small monitor binary (cmd/rtd-monitor) when it
// is not next to the driver binary.
const WatchBinaryEnv = "RTD_MONITOR"

// Backend starts one workload for a monitor.
type Backend interface {
	// Start creates the workload described by m.Req (set up stdio with
	// m.Stdio or m.AttachConsole, and m.Exit) and returns the host pid
	// whose end is the workload's end. That process must be a child of the
	// monitor, or become one (the monitor is a subreaper) once Start
	// returns.
	Start(m *Monitor) (pid int, err error)
}

// Aborter is implemented by a backend that keeps state of its own for a
// workload (libcontainer's state dir and cgroups, runsc's sandbox): Abort
// destroys it when the monitor cannot register a workload Start created.
type Aborter interface {
	Abort(m *Monitor)
}

// StartReport is what a monitor tells the driver once the workload exists.
type StartReport struct {
	Pid   int    `json:",omitempty"`
	Error string `json:",omitempty"`
	Class string `json:",omitempty"` // errdefs class name of Error
}

// Monitor starts one workload process, a container's init or an exec, and
// then watches it (package watch).
type Monitor struct {
	Layout Layout
	// Dir is the process dir; Req is its request.json.
	Dir string
	Req Request
	// Exit says how to complete the exit status (OOM files, signals).
	Exit watch.ExitInfo

	io  stdio
	pid int
}

// IsMonitor reports whether this process was started as a monitor.
func IsMonitor() bool { return len(os.Args) == 3 && os.Args[0] == Name }

// Main is the monitor process's main: "rtd-monitor STATE PROCDIR", with fd
// 3 the pipe on which the start report goes back to the driver. Once the
// workload exists the monitor re-executes into the small cmd/rtd-monitor
// binary when there is one (next to this binary, or $RTD_MONITOR), which
// keeps watching it, and otherwise watches it itself; it also watches it
// itself when the workload ended within the backend's QuickExitWindow. It
// returns the monitor's exit code.
func Main(b Backend) int {
	// The main thread's name is what ps and /proc/PID/comm show.
	_ = os.WriteFile("/proc/self/comm", []byte(Name), 0)
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	reportPipe := os.NewFile(3, "report")
	m := &Monitor{Layout: Layout{Root: os.Args[1]}, Dir: os.Args[2]}
	// The process dir stays locked until the workload is registered (pid
	// file, control socket) or destroyed: a driver's Delete that comes
	// meanwhile (the driver died during Create) waits for either.
	unlock, err := LockDir(context.Background(), m.Dir)
	if err != nil {
		WriteReport(reportPipe, StartReport{Error: err.Error()})
		return 1
	}
	if err := m.start(b); err != nil {
		unlock()
		WriteReport(reportPipe, StartReport{Error: err.Error(), Class: ErrorClass(err)})
		return 1
	}
	cfg, files := m.watchConfig()
	unlock()
	WriteReport(reportPipe, StartReport{Pid: m.pid})
	if exe := watchBinary(); exe != "" && !m.endedQuickly(b) {
		err := execWatch(exe, m.Layout.Root, m.Dir, cfg)
		fmt.Fprintf(os.Stderr, "re-execute into %s: %v; watching in the driver binary\n", exe, err)
	}
	return watch.Run(cfg, func(fd int) *os.File { return files[fd] })
}

// WriteReport sends the start report on f (fd 3 of a monitor, the pipe
// Spawn reads) and closes it. For monitors that do not use Main.
func WriteReport(f *os.File, r StartReport) {
	_ = json.NewEncoder(f).Encode(r)
	f.Close()
}

func (m *Monitor) start(b Backend) (retErr error) {
	// Written first, by the monitor itself: whoever finds the workload
	// can always tell whether its monitor still lives.
	if err := writeSelfPid(m.Dir); err != nil {
		return fmt.Errorf("write monitor pid: %w", err)
	}
	req, err := ReadRequest(m.Dir)
	if err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	m.Req = req
	pid, err := b.Start(m)
	m.io.closeAfterStart()
	if err != nil {
		m.io.closeAll()
		return err
	}
	// From here on a failure must not leave the workload behind: nobody
	// would wait for it.
	defer func() {
		if retErr != nil {
			m.io.closeAll()
			_ = unix.Kill(pid, unix.SIGKILL)
			if a, ok := b.(Aborter); ok {
				a.Abort(m)
			}
			var ws unix.WaitStatus
			_, _ = unix.Wait4(pid, &ws, 0, nil)
			watch.ReapRest(time.Second)
		}
	}()
	m.pid = pid
	watch.ReserveExit(m.Dir)
	if err := WritePidFile(filepath.Join(m.Dir, PidFile), pid); err != nil {
		return fmt.Errorf("record workload pid %d: %w", pid, err)
	}
	return nil
}

// watchConfig describes the started workload for package watch, with the
// files its descriptor numbers stand for. The control socket is listened on
// here, before the start report, so that no driver call finds it missing.
func (m *Monitor) watchConfig() (watch.Config, map[int]*os.File) {
	files := map[int]*os.File{}
	fd := func(f *os.File) int {
		if f == nil {
			return -1
		}
		n := fdOf(f)
		files[n] = f
		return n
	}
	cfg := watch.Config{
		Dir: m.Dir, Pid: m.pid, Exit: m.Exit, Listener: -1, Console: fd(m.io.console),
		Socket: m.Layout.SocketPath(m.Req.ID, m.Req.ExecID),
	}
	if f, err := listenControl(cfg.Socket); err != nil {
		fmt.Fprintf(os.Stderr, "control socket: %v\n", err)
	} else {
		cfg.Listener = fd(f)
	}
	for _, c := range m.io.outputs {
		cp := watch.Copy{From: fd(c.from), To: fd(c.to), Stream: c.stream}
		if c.marker != "" {
			cp.Marker, cp.Ack = c.marker, fd(c.ack)
		}
		cfg.Outputs = append(cfg.Outputs, cp)
	}
	if in := m.io.stdin; in != nil {
		cfg.Stdin = &watch.Input{Path: in.path, To: fd(in.to), KeepOpen: in.keepOpen}
	}
	return cfg, files
}

// fdOf returns f's descriptor without f.Fd(), which would switch it to
// blocking mode and so disable the write deadlines of the watch's pumps.
func fdOf(f *os.File) int {
	n := -1
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { n = int(fd) })
	}
	return n
}

// listenControl listens on the control socket at path and returns the
// listening descriptor as a file (the socket file stays until the watch
// removes it).
func listenControl(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	defer ul.Close()
	return ul.File()
}

// watchBinary returns the small monitor binary to re-execute into, or "".
func watchBinary() string {
	if p := os.Getenv(WatchBinaryEnv); p != "" {
		return p
	}
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(self), Name)
	if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return ""
	}
	return p
}

// execWatch replaces this process with the small monitor binary, which
// inherits the workload (a child), the subreaper role and the descriptors of
// cfg: "rtd-monitor STATE PROCDIR CONFIGFD". The config travels in a memfd,
// not on the command line, which every local user can read. It returns
// only on failure.
func execWatch(exe, state, dir string, cfg watch.Config) error {
	data, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	cfd, err := unix.MemfdCreate("rtd-monitor-config", 0)
	if err != nil {
		return fmt.Errorf("config memfd: %w", err)
	}
	if _, err := unix.Pwrite(cfd, data, 0); err != nil {
		unix.Close(cfd)
		return fmt.Errorf("write config memfd: %w", err)
	}
	for _, fd := range cfg.Descriptors() {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			unix.Close(cfd)
			return fmt.Errorf("pass descriptor %d: %w", fd, err)
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, "GOMAXPROCS=") {
			env = append(env, kv)
		}
	}
	err = syscall.Exec(exe, []string{Name, state, dir, strconv.Itoa(cfd)}, env)
	unix.Close(cfd)
	return err
}

// Terminal reports whether the workload wants a terminal.
func (m *Monitor) Terminal() bool {
	return m.Req.Stdio.Terminal || (m.Req.Process != nil && m.Req.Process.Terminal)
}

// Stdio makes pipes for a workload without a terminal and returns the
// workload's ends (nil for /dev/null). The watch copies between them and
// the host paths of the request; the monitor closes the workload's ends in
// itself after Start.
func (m *Monitor) Stdio() (in, out, errw *os.File, err error) {
	s := m.Req.Stdio
	in, out, errw, err = m.io.pipeStdio(s.Stdin, s.Stdout, s.Stderr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("stdio of %s: %v: %w", m.Req.ID, err, errdefs.ErrInvalidArgument)
	}
	return in, out, errw, nil
}

// NullStdio replaces each nil stream with a pipe standing in for /dev/null
// (stdin at EOF, output discarded by the watch), so that no host device node
// reaches the workload. For runtimes that hand their own stdio to the
// sandbox's user: runsc chowns it, and given the host's /dev/null it made
// /dev/null nobody's for the whole host.
func (m *Monitor) NullStdio(in, out, errw *os.File) (*os.File, *os.File, *os.File, error) {
	in, out, errw, err := m.io.nullPipes(in, out, errw)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("stdio of %s: %w", m.Req.ID, err)
	}
	return in, out, errw, nil
}

// EndMarker has the watch strip marker, a nonce the workload writes after
// its last byte, from each output stream set up so far (Stdio, NullStdio),
// and write one byte, once per stream, to the returned pipe when every
// byte before it was handed on: a workload that ends only after reading
// those bytes (a VM whose output is still queued in its VMM) loses no
// output. Give the returned file to the workload; it is closed after Start.
func (m *Monitor) EndMarker(marker string) (*os.File, error) {
	if marker == "" || len(m.io.outputs) == 0 {
		return nil, fmt.Errorf("end marker of %s: no marker or no output stream", m.Req.ID)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	for i := range m.io.outputs {
		m.io.outputs[i].marker, m.io.outputs[i].ack = marker, w
	}
	m.io.closers = append(m.io.closers, r)
	return r, nil
}

// CloseAfterStart registers workload-side files the monitor closes once
// Start returned (e.g. the child end of a console socket).
func (m *Monitor) CloseAfterStart(f *os.File) { m.io.closers = append(m.io.closers, f) }

// AttachConsole takes the pty master of a terminal workload: the watch
// copies it to the request's stdout and its stdin into it.
func (m *Monitor) AttachConsole(master *os.File) error {
	s := m.Req.Stdio
	dst, stream, err := openOutput(s.Stdout, logfile.Stdout)
	if err != nil {
		master.Close()
		return err
	}
	m.io.console = master
	m.io.outputs = append(m.io.outputs, copyJob{from: master, to: dst, stream: stream})
	if s.Stdin != "" {
		m.io.stdin = &inputJob{path: s.Stdin, to: master, keepOpen: true}
	}
	return nil
}
