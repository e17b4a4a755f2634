//go:build linux

package watch

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/rtd-project/rtd/kit/logfile"
)

// writeStallLimit bounds how long the monitor waits for a reader that stopped
// reading (an attached client that went away): after it, output is discarded
// so the workload never blocks forever on a dead terminal.
const writeStallLimit = 30 * time.Second

// Pump copies src to dst until src ends, as records of stream when it is
// not 0 (kit/logfile: each read, of up to size bytes, becomes one append
// of a header and the bytes, read behind the header so nothing is
// copied). When dst stops accepting data for 30 s (or fails, or is nil),
// the rest of src is read and discarded, so that the writer never blocks
// on a reader that went away.
func Pump(dst *os.File, src io.Reader, stream byte, size int) {
	buf := make([]byte, logfile.HeaderSize+size)
	hdr := 0
	if stream != 0 {
		hdr = logfile.HeaderSize
	}
	broken := dst == nil
	for {
		n, err := src.Read(buf[hdr:])
		if n > 0 && !broken {
			if hdr > 0 {
				logfile.PutHeader(buf, stream, n, time.Now())
			}
			_ = dst.SetWriteDeadline(time.Now().Add(writeStallLimit))
			if _, werr := dst.Write(buf[:hdr+n]); werr != nil {
				broken = true
			}
		}
		if err != nil {
			return
		}
	}
}

// pump is Pump with the monitor's read size.
func pump(dst *os.File, src io.Reader, stream byte) { Pump(dst, src, stream, 64*1024) }

// stdio is the monitor's side of a workload's standard streams.
type stdio struct {
	wg sync.WaitGroup

	mu      sync.Mutex
	stdinW  io.WriteCloser // what feeds the workload's stdin; nil once closed
	stdinR  *os.File       // the host path being read, once it is open
	opened  bool           // the host path was opened (stdinR may be done since)
	closing bool           // CloseIO came: stop at the end of what is buffered
	outputs []*os.File     // host-side destinations, closed after the drain
}

// closeIOGrace is how long, after CloseIO, the copy may still read what
// the caller wrote before it: containerd writes stdin into the FIFO, then
// calls CloseIO, while the bytes may still sit in the pipe unread.
const closeIOGrace = 250 * time.Millisecond

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
			s.mu.Lock()
			s.stdinR, s.opened = f, true
			if s.closing {
				_ = f.SetReadDeadline(time.Now().Add(closeIOGrace))
			}
			s.mu.Unlock()
			_, _ = io.Copy(w, f)
			s.mu.Lock()
			s.stdinR = nil
			s.mu.Unlock()
			f.Close()
		}
		s.closeStdin()
	}()
}

// closeInput is CloseIO: the workload's stdin ends after what was already
// written to the host path has been copied (bounded by closeIOGrace when a
// writer keeps the path open), not at once, which lost that input.
func (s *stdio) closeInput() {
	s.mu.Lock()
	s.closing = true
	f, opened := s.stdinR, s.opened
	s.mu.Unlock()
	switch {
	case f != nil && f.SetReadDeadline(time.Now().Add(closeIOGrace)) == nil:
		// The copy ends at the deadline or at EOF, then closes stdin.
	case !opened:
		// The copy has not opened the path yet: it takes the deadline when
		// it does; stdin is closed anyway if no writer ever opens it.
		time.AfterFunc(closeIOGrace, func() {
			s.mu.Lock()
			o := s.opened
			s.mu.Unlock()
			if !o {
				s.closeStdin()
			}
		})
	default:
		s.closeStdin()
	}
}

func (s *stdio) closeStdin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stdinW != nil {
		s.stdinW.Close()
		s.stdinW = nil
	}
}

// copyOutput pumps r to dst in the background (as records of stream when
// it is not 0); drain waits for it.
func (s *stdio) copyOutput(dst *os.File, r io.ReadCloser, stream byte) {
	if dst != nil {
		s.outputs = append(s.outputs, dst)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		pump(dst, r, stream)
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
