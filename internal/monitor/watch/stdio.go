//go:build linux

package watch

import (
	"io"
	"os"
	"sync"
	"time"
)

// writeStallLimit bounds how long the monitor waits for a reader that stopped
// reading (an attached client that went away): after it, output is discarded
// so the workload never blocks forever on a dead terminal.
const writeStallLimit = 30 * time.Second

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
