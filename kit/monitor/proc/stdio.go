//go:build linux

package proc

import (
	"fmt"
	"io"
	"os"
)

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

// copyJob is an output stream the watch pumps: from the monitor's end of a
// pipe (or a pty master) to a host file (nil: discard).
type copyJob struct {
	from, to *os.File
	marker   string   // the stream's end marker (Monitor.EndMarker)
	ack      *os.File // written once the marker passed
}

// inputJob is the stdin stream the watch feeds from a host path.
type inputJob struct {
	path     string
	to       *os.File
	keepOpen bool
}

// stdio is the monitor's side of a workload's standard streams while it
// starts the workload: nothing is copied before the watch runs, so a
// re-execution loses no byte.
type stdio struct {
	outputs []copyJob
	stdin   *inputJob
	console *os.File    // pty master of a terminal workload
	closers []io.Closer // workload-side ends, closed once the workload has them
}

// closeAfterStart closes the ends that now belong to the workload.
func (s *stdio) closeAfterStart() {
	for _, c := range s.closers {
		c.Close()
	}
	s.closers = nil
}

// closeAll closes the monitor's ends when the workload did not start.
func (s *stdio) closeAll() {
	for _, c := range s.outputs {
		c.from.Close()
		if c.to != nil {
			c.to.Close()
		}
		if c.ack != nil {
			c.ack.Close() // shared: a second Close is harmless
		}
	}
	if s.stdin != nil {
		s.stdin.to.Close()
	}
	s.outputs, s.stdin = nil, nil
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
			s.outputs, s.stdin = nil, nil
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
		s.stdin = &inputJob{path: stdinPath, to: w}
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
		s.outputs = append(s.outputs, copyJob{from: r, to: dst})
	}
	return in, out, errw, nil
}

// nullPipes stands a pipe in for each nil stream: a stdin that reads EOF at
// once, and outputs the watch discards. The workload's ends are closed here
// after Start, as those of pipeStdio.
func (s *stdio) nullPipes(in, out, errw *os.File) (_, _, _ *os.File, err error) {
	var ends []*os.File // workload-side ends made here
	var jobs []copyJob
	defer func() {
		if err != nil {
			for _, f := range ends {
				f.Close()
			}
			for _, j := range jobs {
				j.from.Close()
			}
		}
	}()
	if in == nil {
		r, w, perr := os.Pipe()
		if perr != nil {
			return nil, nil, nil, perr
		}
		w.Close()
		in = r
		ends = append(ends, r)
	}
	for _, end := range []**os.File{&out, &errw} {
		if *end != nil {
			continue
		}
		r, w, perr := os.Pipe()
		if perr != nil {
			return nil, nil, nil, perr
		}
		*end = w
		ends = append(ends, w)
		jobs = append(jobs, copyJob{from: r})
	}
	s.outputs = append(s.outputs, jobs...)
	for _, f := range ends {
		s.closers = append(s.closers, f)
	}
	return in, out, errw, nil
}
