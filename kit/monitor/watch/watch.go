//go:build linux

package watch

import (
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"
)

// drainLimit bounds how long a monitor waits, after the workload exited, for
// output still held by processes that escaped it (no private pid namespace).
const drainLimit = 5 * time.Second

// orphanLimit bounds how long a monitor waits, after the workload ended,
// for the other children it adopted (runsc's gofer, say) to exit, so that
// the backend is quiet when the exit status is reported.
const orphanLimit = 2 * time.Second

// Config is what the watch of one started workload needs. File fields are
// descriptor numbers of the monitor process (-1: none); they survive the
// re-execution into cmd/rtd-monitor.
type Config struct {
	Dir      string // process dir: exit.json is written there
	Pid      int    // the workload, a child of this process
	Socket   string // control socket path, removed at the end
	Listener int    // the control socket's listening descriptor
	Outputs  []Copy // workload output to host destinations
	Stdin    *Input `json:",omitempty"`
	Console  int    // pty master of a terminal workload (for resize)
	Exit     ExitInfo
}

// Copy pumps From (the monitor's end of a workload stream) to To (a host
// file or FIFO; -1 discards). Stream, when not 0, is the stream number of
// the records To takes (a container log in kit/logfile's format); 0 copies
// the bytes as they are. With a Marker, the stream ends with that nonce,
// which is not passed on: once every byte before it was, one byte is
// written to Ack (markReader).
type Copy struct {
	From, To int
	Stream   byte   `json:",omitempty"`
	Marker   string `json:",omitempty"`
	Ack      int    `json:",omitempty"`
}

// Input feeds the workload's stdin (To) from the host path Path; KeepOpen
// leaves To open at EOF (a pty master is also the output).
type Input struct {
	Path     string
	To       int
	KeepOpen bool `json:",omitempty"`
}

// ExitInfo says how to complete a workload's exit status.
type ExitInfo struct {
	// OOMFiles are cgroup files with an "oom_kill N" line (memory.events,
	// memory.oom_control): N > 0 means the kernel's OOM killer struck.
	OOMFiles []string `json:",omitempty"`
	// SignalFromCode: the workload reports death by signal as exit code
	// 128+signal (gVisor's sandbox, runsc exec).
	SignalFromCode bool `json:",omitempty"`
}

// ExitStatus is exit.json; its JSON is that of driver.ExitStatus.
type ExitStatus struct {
	Code      uint32
	Signal    int32
	OOMKilled bool
	ExitedAt  time.Time
	Reason    string
}

// Descriptors lists every descriptor cfg refers to.
func (cfg *Config) Descriptors() []int {
	fds := []int{cfg.Listener, cfg.Console}
	for _, c := range cfg.Outputs {
		fds = append(fds, c.From, c.To)
		if c.Marker != "" {
			fds = append(fds, c.Ack)
		}
	}
	if cfg.Stdin != nil {
		fds = append(fds, cfg.Stdin.To)
	}
	var out []int
	for _, fd := range fds {
		if fd >= 0 {
			out = append(out, fd)
		}
	}
	return out
}

// watcher is the state of one watch.
type watcher struct {
	cfg     Config
	io      stdio
	console console.Console
	exited  chan struct{} // closed when the workload has ended
	written chan struct{} // closed when exit.json is on disk
	// handlers counts control requests being answered.
	handlers sync.WaitGroup
	status   ExitStatus
	// unwritten says exit.json could not be written: "wait" replies carry
	// the status instead.
	unwritten bool
}

// Run watches the workload of cfg until it ended and its exit status is on
// disk. file returns the *os.File of a descriptor of cfg (os.NewFile after
// a re-execution; the monitor's own files otherwise).
func Run(cfg Config, lookup func(fd int) *os.File) int {
	w := &watcher{cfg: cfg, exited: make(chan struct{}), written: make(chan struct{})}
	ReserveExit(cfg.Dir)
	// One *os.File per descriptor (a pty master is output, input and
	// console at once): two would close the number twice.
	files := map[int]*os.File{}
	file := func(fd int) *os.File {
		if files[fd] == nil {
			files[fd] = lookup(fd)
		}
		return files[fd]
	}
	var ln net.Listener
	if cfg.Listener >= 0 {
		f := file(cfg.Listener)
		l, err := net.FileListener(f)
		f.Close() // FileListener dup'ed it
		if err != nil {
			fmt.Fprintf(os.Stderr, "control socket: %v\n", err)
		} else {
			ln = l
		}
	}
	if cfg.Console >= 0 {
		if c, err := console.ConsoleFromFile(file(cfg.Console)); err == nil {
			w.console = c
		}
	}
	for _, c := range cfg.Outputs {
		var dst *os.File
		if c.To >= 0 {
			dst = file(c.To)
		}
		var src io.ReadCloser = file(c.From)
		if c.Marker != "" {
			src = newMarkReader(src, c.Marker, file(c.Ack))
		}
		w.io.copyOutput(dst, src, c.Stream)
	}
	if in := cfg.Stdin; in != nil {
		var to io.WriteCloser = file(in.To)
		if in.KeepOpen {
			to = nopCloser{to}
		}
		w.io.copyInput(in.Path, to)
	}
	go w.reap()
	served := make(chan struct{})
	if ln != nil {
		go w.serveControl(ln, served)
	} else {
		close(served)
	}
	<-w.exited
	w.io.drain(drainLimit)
	if w.console != nil {
		w.console.Close()
	}
	werr := writeExit(cfg.Dir, w.status)
	if werr != nil {
		fmt.Fprintf(os.Stderr, "write exit status: %v; keeping it in memory for the driver\n", werr)
		w.unwritten = true
	}
	close(w.written)
	if werr != nil && ln != nil {
		w.holdStatus()
	}
	if ln != nil {
		ln.Close()
		os.Remove(cfg.Socket)
	}
	<-served
	w.flushReplies()
	return 0
}

// holdStatus keeps a monitor whose exit.json could not be written alive,
// serving the status in its "wait" replies, until a retried write succeeds
// or the process dir is gone (the container was deleted).
func (w *watcher) holdStatus() {
	for {
		time.Sleep(retryWrite)
		if _, err := os.Stat(w.cfg.Dir); err != nil {
			return
		}
		if writeExit(w.cfg.Dir, w.status) == nil {
			return
		}
	}
}

// nopCloser keeps a pty master open at the end of stdin: it is the output too.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// reap waits for every child (the monitor is a subreaper) and records the
// workload's status when its pid ends.
func (w *watcher) reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			w.finish(ExitStatus{Code: 255, Reason: "workload status lost: " + err.Error()})
			return
		}
		if pid != w.cfg.Pid {
			continue
		}
		st := ExitStatus{}
		switch {
		case ws.Exited():
			st.Code = uint32(ws.ExitStatus())
		case ws.Signaled():
			st.Signal = int32(ws.Signal())
			st.Code = 128 + uint32(ws.Signal())
		}
		if w.cfg.Exit.SignalFromCode && st.Signal == 0 && st.Code > 128 && st.Code <= 128+64 {
			st.Signal = int32(st.Code - 128)
		}
		st.OOMKilled = oomKilled(w.cfg.Exit.OOMFiles)
		ReapRest(orphanLimit)
		w.finish(st)
		return
	}
}

// ReapRest reaps remaining children of this process (a subreaper's
// adopted orphans) until there are none or limit passed.
func ReapRest(limit time.Duration) {
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

func (w *watcher) finish(st ExitStatus) {
	st.ExitedAt = time.Now().UTC()
	w.status = st
	close(w.exited)
}

// oomKilled reports whether any of the files has an "oom_kill N" line with
// N > 0.
func oomKilled(files []string) bool {
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			var n uint64
			if _, err := fmt.Sscanf(line, "oom_kill %d", &n); err == nil && n > 0 {
				return true
			}
		}
	}
	return false
}
