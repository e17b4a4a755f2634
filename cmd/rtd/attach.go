package main

import (
	"context"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/console"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// drainTimeout bounds how long rtd waits for a process's output after the
// driver reported its exit (the driver drains it before it reports, so this
// only matters when something broke).
const drainTimeout = 10 * time.Second

// attachment copies the stdio FIFOs of a container process to and from
// rtd's own standard streams.
type attachment struct {
	outputs sync.WaitGroup
	mu      sync.Mutex
	files   []*os.File
	pending map[string]bool // output FIFOs whose open may still block
	// spill is where output goes once rtd's own stdout or stderr is closed
	// (| head): the process is never left stalled on a full pipe. "" drops
	// it.
	spill     string
	spillFile *os.File
}

// attach starts copying: stdout and stderr FIFOs to w/ew until EOF, r into
// the stdin FIFO until r ends (then the FIFO is closed: EOF for the process).
func attach(s driver.Stdio, r io.Reader, w, ew io.Writer, spill string) *attachment {
	a := &attachment{pending: map[string]bool{}, spill: spill}
	a.output(s.Stdout, w)
	a.output(s.Stderr, ew)
	if s.Stdin != "" {
		go a.input(s.Stdin, r)
	}
	return a
}

func (a *attachment) output(path string, w io.Writer) {
	if path == "" {
		return
	}
	a.mu.Lock()
	a.pending[path] = true
	a.mu.Unlock()
	a.outputs.Add(1)
	go func() {
		defer a.outputs.Done()
		f, err := os.OpenFile(path, os.O_RDONLY, 0) // blocks until the driver's side is open
		a.mu.Lock()
		delete(a.pending, path)
		if err == nil {
			a.files = append(a.files, f)
		}
		a.mu.Unlock()
		if err != nil {
			return
		}
		a.copyOut(w, f)
		f.Close()
	}()
}

// copyOut copies src to w until EOF; when w fails (a closed pipe), the
// rest goes to the spill file.
func (a *attachment) copyOut(w io.Writer, src io.Reader) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				w = a.spillWriter()
				_, _ = w.Write(buf[:n])
			}
		}
		if err != nil {
			return
		}
	}
}

// spillWriter opens the spill file once (append, 0600); io.Discard if none.
func (a *attachment) spillWriter() io.Writer {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.spillFile == nil && a.spill != "" {
		f, err := os.OpenFile(a.spill, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			a.spill = ""
		} else {
			a.spillFile = f
			a.files = append(a.files, f)
		}
	}
	if a.spillFile == nil {
		return io.Discard
	}
	return a.spillFile
}

// spilled reports whether output went to the spill file.
func (a *attachment) spilled() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.spillFile != nil
}

func (a *attachment) input(path string, r io.Reader) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0) // blocks until the driver's side is open
	if err != nil {
		return
	}
	a.mu.Lock()
	a.files = append(a.files, f)
	a.mu.Unlock()
	_, _ = io.Copy(f, r)
	f.Close()
}

// wait waits until every output reached EOF, at most timeout; then it gives
// up on what is left.
func (a *attachment) wait(timeout time.Duration) {
	done := make(chan struct{})
	go func() { a.outputs.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		a.abort()
		<-done
	}
}

// abort ends every copy now.
func (a *attachment) abort() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for p := range a.pending {
		unblockFIFO(p)
	}
	for _, f := range a.files {
		f.Close()
	}
}

// runAttached runs a process with rtd's stdio attached: it starts opening
// the FIFOs (the opens complete once the driver opened its ends), puts the
// terminal in raw mode (tty), forwards SIGINT and SIGTERM and window size
// changes, calls start and waits for the exit status and the end of the
// output.
//
// When rtd's stdout or stderr is closed, output goes on to spill (onSpill
// is then called once the process ended), or is dropped if spill is "".
func runAttached(ctx context.Context, a *app, d *core.Plugin, id, execID string, stdio driver.Stdio, spill string, onSpill func(), start func() error) (*driver.ExitStatus, error) {
	att := attach(stdio, os.Stdin, os.Stdout, os.Stderr, spill)
	resize := func() {}
	if stdio.Terminal {
		if con, err := console.ConsoleFromFile(os.Stdin); err == nil {
			if err := con.SetRaw(); err == nil {
				defer con.Reset()
			}
			resize = func() {
				if ws, err := con.Size(); err == nil && ws.Width > 0 {
					_ = d.ResizePty(ctx, &driver.ResizePtyRequest{ID: id, ExecID: execID, Width: uint32(ws.Width), Height: uint32(ws.Height)})
				}
			}
			stop := onWindowChange(resize)
			defer stop()
		}
	}
	stop := a.forwardSignals(func(sig os.Signal) {
		if s, ok := sig.(syscall.Signal); ok {
			go func() { _ = d.Kill(ctx, &driver.KillRequest{ID: id, ExecID: execID, Signal: uint32(s)}) }()
		}
	})
	defer stop()
	if err := start(); err != nil {
		att.abort()
		return nil, err
	}
	resize()
	st, err := d.Wait(ctx, &driver.WaitRequest{ID: id, ExecID: execID})
	if err != nil {
		att.abort()
		return nil, err
	}
	att.wait(drainTimeout)
	if att.spilled() && onSpill != nil {
		onSpill()
	}
	return st, nil
}
