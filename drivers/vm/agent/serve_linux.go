package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/yamux"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/linux"
	"github.com/rtd-project/rtd/drivers/vm/wire"
	"github.com/rtd-project/rtd/internal/guest"
)

// Main is the agent's entry point; main calls linux.Reexec first, so that
// the guest's libcontainer init and linux monitors (re-executions of /init)
// never get here.
func Main() {
	log := hclog.New(&hclog.LoggerOptions{Name: "rtd-vm-agent", Output: os.Stderr, Level: hclog.Info})
	if len(os.Args) == 2 && os.Args[1] == wire.InfoArg {
		_ = json.NewEncoder(os.Stdout).Encode(wire.AgentInfo{SyscallFilter: syscallFilter})
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "rtd-vm-agent is the /init of the vm driver's guest: it runs as pid 1 of a VM only")
		os.Exit(2)
	}
	if err := switchRoot(); err != nil {
		log.Error("cannot move the root off the initramfs", "error", err)
		powerOff()
	}
	if err := prepare(); err != nil {
		log.Error("guest setup failed", "error", err)
		powerOff()
	}
	if kernelArg(wire.ProbeArg) {
		fmt.Fprintln(os.Stderr, wire.ProbeOK)
		powerOff()
	}
	go reap()
	port, err := guest.OpenPort(wire.PortName, os.O_RDWR, 15*time.Second)
	if err != nil {
		log.Error("no port to the host", "error", err)
		powerOff()
	}
	log.Info("agent up", "uptime", uptime(), "port", port.Name())
	a := &agent{log: log, drv: linux.New(linux.Options{StateDir: wire.GuestStateDir, Logger: log.Named("linux")})}
	if err := a.serve(port); err != nil {
		log.Error("session with the host ended", "error", err)
	}
	powerOff()
}

// uptime is the guest's /proc/uptime, for boot timing in the console log.
func uptime() string {
	data, _ := os.ReadFile("/proc/uptime")
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return "?"
	}
	return f[0] + "s"
}

// agent serves one host session.
type agent struct {
	log hclog.Logger
	drv driver.Driver
}

// serve runs the yamux session over the port until the host goes away.
func (a *agent) serve(port io.ReadWriteCloser) error {
	sess, err := yamux.Server(port, wire.Config(io.Discard))
	if err != nil {
		return err
	}
	lis := newStreamListener(sess.Addr())
	gs := driver.NewRelayServer(a.drv, a.log)
	go gs.Serve(lis)
	defer gs.Stop()
	for {
		st, err := sess.AcceptStream()
		if err != nil {
			lis.Close()
			return err
		}
		go a.dispatch(st, lis)
	}
}

// dispatch reads a stream's header and hands it to its handler.
func (a *agent) dispatch(st *yamux.Stream, lis *streamListener) {
	var h wire.Header
	if err := wire.ReadLine(st, &h); err != nil {
		st.Close()
		return
	}
	switch h.Kind {
	case wire.KindGRPC:
		lis.push(st)
	case wire.KindCtl:
		a.control(st)
	case wire.KindStdio:
		a.stdio(st, h)
	default:
		_ = wire.WriteLine(st, wire.Reply{Error: "unknown stream kind " + h.Kind})
		st.Close()
	}
}

// control answers one control request.
func (a *agent) control(st *yamux.Stream) {
	defer st.Close()
	// Greet first: the host sends its clock only once the agent listens.
	if err := wire.WriteLine(st, wire.Reply{}); err != nil {
		return
	}
	var req wire.Request
	if err := wire.ReadLine(st, &req); err != nil {
		return
	}
	var err error
	switch req.Op {
	case wire.OpInit:
		err = a.initContainer(req)
	case wire.OpPod:
		err = a.initPod(req)
	case wire.OpContainer:
		err = a.podContainer(req)
	case wire.OpRemove:
		err = a.removeContainer(req)
	default:
		err = fmt.Errorf("unknown op %q", req.Op)
	}
	rep := wire.Reply{}
	if err != nil {
		rep.Error = err.Error()
		a.log.Error("control request failed", "op", req.Op, "error", err)
	}
	_ = wire.WriteLine(st, rep)
}

// initContainer sets the clock and lays out the container's bundle.
func (a *agent) initContainer(req wire.Request) error {
	if err := setClock(req.UnixNano); err != nil {
		a.log.Warn("cannot set the clock", "error", err)
	}
	if err := guest.ConfigureNetwork(modulesDir, req.Net); err != nil {
		return err
	}
	if err := mountLayered(wire.RootfsSerial, wire.GuestRootfs); err != nil {
		return err
	}
	if req.Binds {
		if err := mountLayered(wire.BindsSerial, wire.GuestBinds); err != nil {
			return err
		}
	}
	if err := mountShares(req.Shares); err != nil {
		return err
	}
	if err := os.MkdirAll(wire.GuestBundle, 0o700); err != nil {
		return err
	}
	if !json.Valid(req.Spec) {
		return fmt.Errorf("spec is not valid JSON")
	}
	err := os.WriteFile(filepath.Join(wire.GuestBundle, "config.json"), req.Spec, 0o600)
	a.log.Info("container bundle ready", "uptime", uptime())
	return err
}

// stdio connects one standard stream of a guest process to a stream: it
// makes the FIFO the guest's linux driver will use, acknowledges it with its
// path, and copies until the end.
func (a *agent) stdio(st *yamux.Stream, h wire.Header) {
	path := wire.IOPath(h.ID, h.ExecID, h.Stream)
	if err := makeFifo(path); err != nil {
		_ = wire.WriteLine(st, wire.Reply{Error: err.Error()})
		st.Close()
		return
	}
	if err := wire.WriteLine(st, wire.Reply{Path: path}); err != nil {
		st.Close()
		os.Remove(path)
		return
	}
	if h.Stream == wire.Stdin {
		go copyIn(st, path)
	} else {
		go copyOut(st, path)
	}
}

func makeFifo(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	_ = os.Remove(path)
	return unix.Mkfifo(path, 0o600)
}

// copyOut copies what the process writes to the FIFO to the host. The open
// blocks until the guest's linux monitor opens the FIFO; when the host gives
// up on the stream first, a writer of our own unblocks it.
func copyOut(st *yamux.Stream, path string) {
	var once sync.Once
	release := func() {
		once.Do(func() {
			if f, err := os.OpenFile(path, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
		})
	}
	go func() {
		_, _ = io.Copy(io.Discard, st) // the host never writes: this ends when it closes
		release()
	}()
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err == nil {
		_, _ = io.Copy(st, f)
		f.Close()
	}
	os.Remove(path)
	st.Close()
}

// copyIn feeds the FIFO the process reads as stdin from the host, and
// closes it at the host's end of file.
func copyIn(st *yamux.Stream, path string) {
	defer os.Remove(path)
	defer st.Close()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return
	}
	_, _ = io.Copy(f, st)
	f.Close()
}

// streamListener hands the grpc streams of the session to a grpc.Server.
type streamListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newStreamListener(addr net.Addr) *streamListener {
	return &streamListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *streamListener) push(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

// Accept implements net.Listener.
func (l *streamListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (l *streamListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr implements net.Listener.
func (l *streamListener) Addr() net.Addr { return l.addr }
