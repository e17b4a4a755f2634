//go:build linux

package monitor

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// writeStallLimit bounds how long the monitor waits for a reader that stopped
// reading (an attached client that went away): after it, output is discarded
// so the workload never blocks forever on a dead terminal.
const writeStallLimit = 30 * time.Second

// openOutput opens a host path for a container's stdout or stderr. A FIFO is
// opened read-write so the open never blocks and the reader sees EOF only
// when the monitor closes it; a regular file is appended to.
func openOutput(path string) (*os.File, error) {
	if path == "" {
		return nil, nil
	}
	fi, err := os.Stat(path)
	if err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
		return os.OpenFile(path, os.O_RDWR, 0)
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

// pump copies src to dst until src ends. When dst stops accepting data for
// writeStallLimit (or fails), the rest of src is read and discarded.
func pump(dst *os.File, src io.Reader) {
	buf := make([]byte, 64*1024)
	broken := dst == nil
	for {
		n, err := src.Read(buf)
		if n > 0 && !broken {
			_ = dst.SetWriteDeadline(time.Now().Add(writeStallLimit))
			if _, werr := dst.Write(buf[:n]); werr != nil {
				broken = true
			}
		}
		if err != nil {
			return
		}
	}
}

// stdio is the monitor's side of a workload's standard streams.
type stdio struct {
	wg sync.WaitGroup

	mu      sync.Mutex
	stdinW  io.WriteCloser // what feeds the workload's stdin; nil once closed
	outputs []*os.File     // host-side destinations, closed after the drain
	closers []io.Closer    // workload-side ends, closed once the workload has them
}

// closeAfterStart closes the ends that now belong to the workload.
func (s *stdio) closeAfterStart() {
	for _, c := range s.closers {
		c.Close()
	}
	s.closers = nil
}

// copyInput feeds the workload's stdin (w) from the host path until EOF.
// Opening a FIFO blocks until its writer opens it, so it runs in the
// background.
func (s *stdio) copyInput(path string, w io.WriteCloser) {
	s.mu.Lock()
	s.stdinW = w
	s.mu.Unlock()
	go func() {
		f, err := os.OpenFile(path, os.O_RDONLY, 0)
		if err == nil {
			_, _ = io.Copy(w, f)
			f.Close()
		}
		s.closeStdin()
	}()
}

func (s *stdio) closeStdin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stdinW != nil {
		s.stdinW.Close()
		s.stdinW = nil
	}
}

// copyOutput pumps r to dst in the background; drain waits for it.
func (s *stdio) copyOutput(dst *os.File, r io.ReadCloser) {
	if dst != nil {
		s.outputs = append(s.outputs, dst)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		pump(dst, r)
		r.Close()
	}()
}

// drain waits until every output stream reached EOF, then closes the host
// side so readers of a FIFO see EOF after the last byte.
func (s *stdio) drain(limit time.Duration) {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
	}
	for _, f := range s.outputs {
		f.Close()
	}
}

// pipeStdio sets up plain pipes for the three streams of a non-terminal
// process and returns the workload-side ends.
func (s *stdio) pipeStdio(stdinPath, stdoutPath, stderrPath string) (in, out, errw *os.File, err error) {
	var opened []*os.File
	defer func() {
		if err != nil {
			for _, f := range opened {
				f.Close()
			}
		}
	}()
	if stdinPath != "" {
		r, w, perr := os.Pipe()
		if perr != nil {
			return nil, nil, nil, perr
		}
		opened = append(opened, r, w)
		in = r
		s.closers = append(s.closers, r)
		s.copyInput(stdinPath, w)
	}
	for _, p := range []struct {
		path string
		end  **os.File
	}{{stdoutPath, &out}, {stderrPath, &errw}} {
		dst, oerr := openOutput(p.path)
		if oerr != nil {
			return nil, nil, nil, fmt.Errorf("open %s: %w", p.path, oerr)
		}
		if dst == nil {
			continue // /dev/null: libcontainer opens it for us
		}
		opened = append(opened, dst)
		r, w, perr := os.Pipe()
		if perr != nil {
			return nil, nil, nil, perr
		}
		opened = append(opened, r, w)
		*p.end = w
		s.closers = append(s.closers, w)
		s.copyOutput(dst, r)
	}
	return in, out, errw, nil
}
