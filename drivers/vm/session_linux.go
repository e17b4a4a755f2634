package vm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/vm/wire"
	"github.com/rtd-project/rtd/kit/logfile"
	"github.com/rtd-project/rtd/kit/monitor/watch"
)

// agentSession is the monitor's end of the session with the guest agent,
// multiplexed over the VM's virtio-serial port.
type agentSession struct {
	mux   *yamux.Session
	cc    *grpc.ClientConn
	agent *driver.Client // the linux driver inside the guest
}

func newAgentSession(conn net.Conn) (*agentSession, error) {
	mux, err := yamux.Client(conn, wire.Config(nil))
	if err != nil {
		return nil, err
	}
	return &agentSession{mux: mux}, nil
}

// open opens a stream and writes its header.
func (s *agentSession) open(h wire.Header) (*yamux.Stream, error) {
	st, err := s.mux.OpenStream()
	if err != nil {
		return nil, err
	}
	if err := wire.WriteLine(st, h); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// exchange reads the agent's one-line reply on st, giving up with ctx.
func exchange(ctx context.Context, st *yamux.Stream) (wire.Reply, error) {
	stop := context.AfterFunc(ctx, func() { _ = st.SetReadDeadline(time.Now()) })
	defer stop()
	var rep wire.Reply
	if err := wire.ReadLine(st, &rep); err != nil {
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		return rep, fmt.Errorf("agent: %w", err)
	}
	_ = st.SetReadDeadline(time.Time{})
	if rep.Error != "" {
		return rep, errors.New(rep.Error)
	}
	return rep, nil
}

// control sends one control request, made by req once the agent greeted
// (so a clock in it is fresh), and waits for its reply.
func (s *agentSession) control(ctx context.Context, req func() wire.Request) error {
	st, err := s.open(wire.Header{Kind: wire.KindCtl})
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := exchange(ctx, st); err != nil {
		return err
	}
	if err := wire.WriteLine(st, req()); err != nil {
		return err
	}
	_, err = exchange(ctx, st)
	return err
}

// connectGRPC sets up the client of the guest's driver contract: each
// connection gRPC makes is a new stream of the session.
func (s *agentSession) connectGRPC() error {
	cc, err := grpc.NewClient("passthrough:///rtd-vm-agent",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(context.Context, string) (net.Conn, error) {
			return s.open(wire.Header{Kind: wire.KindGRPC})
		}))
	if err != nil {
		return err
	}
	s.cc = cc
	s.agent = driver.NewClient(cc, "vm guest agent")
	return nil
}

func (s *agentSession) close() {
	if s.cc != nil {
		s.cc.Close()
	}
	s.mux.Close()
}

// procIO is the host side of one guest process's standard streams.
type procIO struct {
	wg      sync.WaitGroup // output copies
	mu      sync.Mutex
	streams []*yamux.Stream
	files   []*os.File
}

// openStdio connects the host paths of a process to FIFOs in the guest and
// returns the guest paths to create the process with.
func (s *agentSession) openStdio(ctx context.Context, id, execID string, host driver.Stdio) (_ driver.Stdio, _ *procIO, retErr error) {
	p := &procIO{}
	defer func() {
		if retErr != nil {
			p.abort()
		}
	}()
	guest := driver.Stdio{Terminal: host.Terminal}
	for _, x := range []struct {
		name, path string
		dst        *string
		stream     byte
	}{{wire.Stdout, host.Stdout, &guest.Stdout, logfile.Stdout}, {wire.Stderr, host.Stderr, &guest.Stderr, logfile.Stderr}, {wire.Stdin, host.Stdin, &guest.Stdin, 0}} {
		if x.path == "" || (x.name == wire.Stderr && host.Terminal) {
			continue
		}
		var f *os.File
		var stream byte // records of this stream in a container log; 0: raw
		if x.name != wire.Stdin {
			var err error
			var records bool
			if f, records, err = logfile.OpenOutput(x.path); err != nil {
				return guest, nil, driver.InvalidArgumentf("stdio of %s: open %s: %v", id, x.path, err)
			}
			if records {
				stream = x.stream
			}
			p.files = append(p.files, f)
		}
		st, err := s.open(wire.Header{Kind: wire.KindStdio, ID: id, ExecID: execID, Stream: x.name})
		if err != nil {
			return guest, nil, err
		}
		p.streams = append(p.streams, st)
		rep, err := exchange(ctx, st)
		if err != nil {
			return guest, nil, fmt.Errorf("stdio of %s: %w", id, err)
		}
		*x.dst = rep.Path
		if x.name == wire.Stdin {
			go copyStdin(x.path, st)
		} else {
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				watch.Pump(f, st, stream, 256*1024)
				f.Close()
				st.Close()
			}()
		}
	}
	return guest, p, nil
}

// drain waits until every output stream ended (the guest closes them once
// the process ended and its output is out), at most limit.
func (p *procIO) drain(limit time.Duration) {
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		p.abort()
	}
}

// abort closes everything at once.
func (p *procIO) abort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, st := range p.streams {
		st.Close()
	}
	for _, f := range p.files {
		f.Close()
	}
}

// copyStdin feeds the guest's stdin stream from the host path until its end
// of file, then closes the stream (the guest closes the process's stdin).
// Opening a FIFO blocks until its writer opens it.
func copyStdin(path string, st *yamux.Stream) {
	defer st.Close()
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = io.Copy(st, f)
}
