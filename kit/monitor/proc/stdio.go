//go:build linux

package proc

import (
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/rtd-project/rtd/kit/logfile"
)

// openOutput opens a host path for a container's stdout or stderr
// (logfile.OpenOutput: a FIFO read-write, a file for appending). The
// record stream to tag its output with is returned when the file is a log
// in the record format (0: copy raw bytes).
func openOutput(path string, stream byte) (*os.File, byte, error) {
	if path == "" {
		return nil, 0, nil
	}
	f, records, err := logfile.OpenOutput(path)
	if err != nil || !records {
		return f, 0, err
	}
	return f, stream, nil
}

// copyJob is an output stream the watch pumps: from the monitor's end of a
// pipe (or a pty master) to a host file (nil: discard), as records of
// stream when it is not 0 (kit/logfile).
type copyJob struct {
	from, to *os.File
	stream   byte
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
		path   string
		end    **os.File
		stream byte
	}{{stdoutPath, &out, logfile.Stdout}, {stderrPath, &errw, logfile.Stderr}} {
		dst, stream, oerr := openOutput(p.path, p.stream)
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
		s.outputs = append(s.outputs, copyJob{from: r, to: dst, stream: stream})
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

// SetCmdStdio gives cmd the workload's ends of Monitor.Stdio, each one
// that is not nil. A nil one (/dev/null) stays unset, which exec.Cmd makes
// /dev/null: assigned, a nil *os.File would be a non-nil io.Reader.
func SetCmdStdio(cmd *exec.Cmd, in, out, errw *os.File) {
	if in != nil {
		cmd.Stdin = in
	}
	if out != nil {
		cmd.Stdout = out
	}
	if errw != nil {
		cmd.Stderr = errw
	}
}
