package linux

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/console"
	"github.com/containerd/errdefs"
	lc "github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runc/libcontainer/utils"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
)

// monitorName is the process name of a monitor (its comm and argv[0]), so
// operators and tests can tell monitors from driver processes.
const monitorName = "rtd-monitor"

// drainLimit bounds how long a monitor waits, after the workload exited, for
// output still held by processes that escaped it (no private pid namespace).
const drainLimit = 5 * time.Second

// startReport is what a monitor tells the driver once the workload exists.
type startReport struct {
	Pid   int    `json:",omitempty"`
	Error string `json:",omitempty"`
	Class string `json:",omitempty"` // errdefs class name of Error
}

// monitor owns one workload process: the container's init or an exec.
type monitor struct {
	layout  layout
	dir     string
	req     request
	io      stdio
	console console.Console
	process *lc.Process
	cont    *lc.Container
	pid     int
	exited  chan struct{} // closed when the workload has ended
	written chan struct{} // closed when exit.json is on disk
	waiters sync.WaitGroup
	status  driver.ExitStatus
}

// runMonitor is the entry point of "rtd-monitor STATE PROCDIR". fd 3 is the
// pipe on which the start report goes back to the driver.
func runMonitor(stateDir, procDir string) int {
	// The main thread's name is what ps and /proc/PID/comm show.
	_ = os.WriteFile("/proc/self/comm", []byte(monitorName), 0)
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	reportPipe := os.NewFile(3, "report")
	m := &monitor{layout: layout{root: stateDir}, dir: procDir, exited: make(chan struct{}), written: make(chan struct{})}
	if err := m.start(); err != nil {
		writeReport(reportPipe, startReport{Error: err.Error(), Class: errorClass(err)})
		return 1
	}
	ln, lerr := listenControl(m.layout.socketPath(m.req.ID, m.req.ExecID))
	writeReport(reportPipe, startReport{Pid: m.pid})
	go m.reap()
	if lerr == nil {
		go m.serveControl(ln)
	}
	<-m.exited
	m.io.drain(drainLimit)
	if m.console != nil {
		m.console.Close()
	}
	if err := writeJSONAtomic(filepath.Join(m.dir, "exit.json"), m.status); err != nil {
		fmt.Fprintf(os.Stderr, "write exit status: %v\n", err)
	}
	close(m.written)
	m.flushWaiters()
	if ln != nil {
		ln.Close()
		os.Remove(m.layout.socketPath(m.req.ID, m.req.ExecID))
	}
	return 0
}

func writeReport(f *os.File, r startReport) {
	_ = json.NewEncoder(f).Encode(r)
	f.Close()
}

func (m *monitor) start() error {
	if err := readJSON(filepath.Join(m.dir, "request.json"), &m.req); err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	var err error
	if m.req.ExecID == "" {
		err = m.startInit()
	} else {
		err = m.startExec()
	}
	if err != nil {
		return err
	}
	st, err := processStartTime(m.pid)
	if err != nil {
		return fmt.Errorf("workload pid %d vanished: %w", m.pid, err)
	}
	rec := pidRecord{Pid: m.pid, StartTime: st}
	return os.WriteFile(filepath.Join(m.dir, "pid"), []byte(rec.String()), 0o600)
}

func (m *monitor) startInit() (retErr error) {
	spec, err := loadSpec(m.req.Bundle)
	if err != nil {
		return err
	}
	if spec.Process == nil {
		return driver.InvalidArgumentf("bundle %s: config.json has no process", m.req.Bundle)
	}
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	if spec.Linux.CgroupsPath == "" {
		spec.Linux.CgroupsPath = "/rtd/" + m.req.ID
	}
	// specconv resolves a relative root.path against the working directory.
	if err := os.Chdir(m.req.Bundle); err != nil {
		return driver.InvalidArgumentf("bundle %s: %v", m.req.Bundle, err)
	}
	config, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName: m.req.ID,
		Spec:       spec,
	})
	if err != nil {
		return driver.InvalidArgumentf("bundle %s: %v", m.req.Bundle, err)
	}
	for k, v := range m.req.Annotations {
		config.Labels = append(config.Labels, k+"="+v)
	}
	config.Labels = append(config.Labels, "bundle="+m.req.Bundle)
	c, err := lc.Create(m.layout.lcRoot(), m.req.ID, config)
	if err != nil {
		if errors.Is(err, lc.ErrExist) {
			return driver.AlreadyExistsf("container %s", m.req.ID)
		}
		return fmt.Errorf("create container %s: %w", m.req.ID, err)
	}
	defer func() {
		if retErr != nil {
			_ = c.Destroy()
		}
	}()
	m.cont = c
	p, err := newProcess(spec.Process)
	if err != nil {
		return err
	}
	p.Init = true
	return m.run(p, spec.Process.Terminal, c.Start)
}

func (m *monitor) startExec() error {
	c, err := lc.Load(m.layout.lcRoot(), m.req.ID)
	if err != nil {
		return driver.NotFoundf("container %s", m.req.ID)
	}
	m.cont = c
	if m.req.Process == nil {
		return driver.InvalidArgumentf("exec %s in %s: no process given", m.req.ExecID, m.req.ID)
	}
	p, err := newProcess(m.req.Process)
	if err != nil {
		return err
	}
	return m.run(p, m.req.Process.Terminal, c.Run)
}

// run wires stdio (pipes or a terminal), starts p with startFn and records
// its pid.
func (m *monitor) run(p *lc.Process, terminal bool, startFn func(*lc.Process) error) error {
	s := m.req.Stdio
	var consoleSock *os.File
	if terminal || s.Terminal {
		parent, child, err := utils.NewSockPair("console")
		if err != nil {
			return err
		}
		defer parent.Close()
		p.ConsoleSocket = child
		m.io.closers = append(m.io.closers, child)
		consoleSock = parent
	} else {
		in, out, errw, err := m.io.pipeStdio(s.Stdin, s.Stdout, s.Stderr)
		if err != nil {
			return driver.InvalidArgumentf("stdio of %s: %v", m.req.ID, err)
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
	var recv chan error
	if consoleSock != nil {
		recv = make(chan error, 1)
		go func() { recv <- m.receiveConsole(consoleSock) }()
	}
	if err := startFn(p); err != nil {
		m.io.closeAfterStart()
		return startError(m.req.ID, err)
	}
	m.io.closeAfterStart()
	m.process = p
	pid, err := p.Pid()
	if err != nil {
		return err
	}
	m.pid = pid
	if recv != nil {
		if err := <-recv; err != nil {
			_ = p.Signal(unix.SIGKILL)
			return fmt.Errorf("receive terminal of %s: %w", m.req.ID, err)
		}
	}
	return nil
}

// receiveConsole takes the pty master from the workload and connects it to
// the host paths: master -> stdout, stdin -> master.
func (m *monitor) receiveConsole(sock *os.File) error {
	master, err := utils.RecvFile(sock)
	if err != nil {
		return err
	}
	cons, err := console.ConsoleFromFile(master)
	if err != nil {
		master.Close()
		return err
	}
	m.console = cons
	s := m.req.Stdio
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
// workload's status when it ends.
func (m *monitor) reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			// No child left: the workload is gone without us seeing it.
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
		if m.req.ExecID == "" {
			st.OOMKilled = m.oomKilled()
		}
		m.finish(st)
		return
	}
}

func (m *monitor) finish(st driver.ExitStatus) {
	st.ExitedAt = time.Now().UTC()
	m.status = st
	close(m.exited)
}

// oomKilled reads the kernel's OOM-kill counter of the container's memory
// cgroup (memory.oom_control on v1, memory.events on v2).
func (m *monitor) oomKilled() bool {
	if m.cont == nil {
		return false
	}
	state, err := m.cont.State()
	if err != nil {
		return false
	}
	for _, f := range []string{
		filepath.Join(state.CgroupPaths["memory"], "memory.oom_control"),
		filepath.Join(state.CgroupPaths[""], "memory.events"),
	} {
		if n, ok := readCounter(f, "oom_kill"); ok && n > 0 {
			return true
		}
	}
	return false
}

func readCounter(path, key string) (uint64, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for _, line := range splitLines(string(data)) {
		var k string
		var v uint64
		if _, err := fmt.Sscanf(line, "%s %d", &k, &v); err == nil && k == key {
			return v, true
		}
	}
	return 0, false
}

// errorClass names the errdefs class of err for the start report.
func errorClass(err error) string {
	switch {
	case errdefs.IsNotFound(err):
		return "not_found"
	case errdefs.IsAlreadyExists(err):
		return "already_exists"
	case errdefs.IsInvalidArgument(err):
		return "invalid_argument"
	case errdefs.IsFailedPrecondition(err):
		return "failed_precondition"
	}
	return ""
}

// classify turns a start report's error back into a typed error.
func classify(class, msg string) error {
	cls := map[string]error{
		"not_found":           errdefs.ErrNotFound,
		"already_exists":      errdefs.ErrAlreadyExists,
		"invalid_argument":    errdefs.ErrInvalidArgument,
		"failed_precondition": errdefs.ErrFailedPrecondition,
	}[class]
	if cls == nil {
		return errors.New(msg)
	}
	return classedError{msg: msg, class: cls}
}

// classedError carries a message that already names its class.
type classedError struct {
	msg   string
	class error
}

func (e classedError) Error() string { return e.msg }
func (e classedError) Unwrap() error { return e.class }

// startError classifies a libcontainer start failure: a workload that cannot
// be executed is the caller's mistake, not the driver's.
func startError(id string, err error) error {
	msg := err.Error()
	for _, s := range []string{"executable file not found", "no such file or directory", "permission denied", "not a directory"} {
		if containsFold(msg, s) {
			return driver.InvalidArgumentf("start %s: %v", id, err)
		}
	}
	return fmt.Errorf("start %s: %w", id, err)
}

func itoa(i int) string { return strconv.Itoa(i) }
