//go:build linux

package watch

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"time"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"
)

// The control protocol between the driver and a monitor: one JSON request
// per connection, one JSON reply. "wait" replies only once the exit status
// is on disk.

// Request is one control request.
type Request struct {
	Op     string // wait, resize, closeio, kill
	Width  uint16 `json:",omitempty"`
	Height uint16 `json:",omitempty"`
	Signal int    `json:",omitempty"`
}

// Reply answers a Request; Error is empty on success. A "wait" reply
// carries the exit status when the monitor could not write exit.json (a
// full disk): the driver records it.
type Reply struct {
	Error  string      `json:",omitempty"`
	Status *ExitStatus `json:",omitempty"`
}

// serveControl answers control requests until ln is closed, then closes
// served.
func (w *watcher) serveControl(ln net.Listener, served chan<- struct{}) {
	defer close(served)
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		w.handlers.Add(1)
		go w.handleControl(conn)
	}
}

func (w *watcher) handleControl(conn net.Conn) {
	defer w.handlers.Done()
	defer conn.Close()
	var req Request
	if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&req); err != nil {
		return
	}
	var err error
	switch req.Op {
	case "wait":
		// Reply once exit.json is written: the driver reads it from disk,
		// or from the reply when the disk refused it.
		<-w.written
		if w.unwritten {
			st := w.status
			_ = json.NewEncoder(conn).Encode(Reply{Status: &st})
			return
		}
	case "resize":
		if w.console == nil {
			err = errors.New("process has no terminal")
		} else {
			err = w.console.Resize(console.WinSize{Width: req.Width, Height: req.Height})
		}
	case "closeio":
		w.io.closeInput()
	case "kill":
		select {
		case <-w.exited:
			err = errors.New("process already exited")
		default:
			err = unix.Kill(w.cfg.Pid, unix.Signal(req.Signal))
			afterKill()
		}
	default:
		err = errors.New("unknown op " + req.Op)
	}
	reply := Reply{}
	if err != nil {
		reply.Error = err.Error()
	}
	_ = json.NewEncoder(conn).Encode(reply)
}

// afterKill runs between a kill's signal and its reply; a test widens the
// race between that reply and the monitor's exit with it.
var afterKill = func() {}

// flushReplies gives every request in progress (a "wait", or the "kill"
// whose signal ended the workload) a moment to send its reply before the
// monitor exits. No new request can arrive: the listener is closed and the
// accept loop has returned.
func (w *watcher) flushReplies() {
	done := make(chan struct{})
	go func() { w.handlers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
}
