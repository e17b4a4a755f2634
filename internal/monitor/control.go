//go:build linux

package monitor

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"
)

// The control protocol between the driver and a monitor: one JSON request
// per connection, one JSON reply. "wait" replies only once the exit status
// is on disk.
type controlRequest struct {
	Op     string // wait, resize, closeio, kill
	Width  uint16 `json:",omitempty"`
	Height uint16 `json:",omitempty"`
	Signal int    `json:",omitempty"`
}

type controlReply struct {
	Error string `json:",omitempty"`
}

func listenControl(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	_ = os.Remove(path)
	return net.Listen("unix", path)
}

func (m *Monitor) serveControl(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go m.handleControl(conn)
	}
}

func (m *Monitor) handleControl(conn net.Conn) {
	defer conn.Close()
	var req controlRequest
	if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&req); err != nil {
		return
	}
	var err error
	switch req.Op {
	case "wait":
		// Reply once exit.json is written: the driver reads it from disk.
		m.waiters.Add(1)
		defer m.waiters.Done()
		<-m.written
	case "resize":
		if m.console == nil {
			err = errors.New("process has no terminal")
		} else {
			err = m.console.Resize(console.WinSize{Width: req.Width, Height: req.Height})
		}
	case "closeio":
		m.io.closeStdin()
	case "kill":
		select {
		case <-m.exited:
			err = errors.New("process already exited")
		default:
			err = unix.Kill(m.pid, unix.Signal(req.Signal))
		}
	default:
		err = errors.New("unknown op " + req.Op)
	}
	reply := controlReply{}
	if err != nil {
		reply.Error = err.Error()
	}
	_ = json.NewEncoder(conn).Encode(reply)
}

// flushWaiters gives the replies to "wait" a moment to reach their callers.
func (m *Monitor) flushWaiters() {
	done := make(chan struct{})
	go func() { m.waiters.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
}

// callControl sends one request to the monitor of a process and waits for
// the reply (or ctx). ErrGone means nothing answers on the socket.
func callControl(ctx context.Context, path string, req controlRequest) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return ErrGone
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return ErrGone
	}
	var reply controlReply
	if err := json.NewDecoder(conn).Decode(&reply); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return ErrGone
	}
	if reply.Error != "" {
		return errors.New(reply.Error)
	}
	return nil
}

// ErrGone means no monitor answers for a process: it has ended.
var ErrGone = errors.New("monitor is gone")
