//go:build linux || freebsd

package freebsd

import (
	"io"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
)

// hostIO hands the host paths of a container's stdio to the runtime's
// create command, which passes them on to the container (runc and runj
// both do): the container holds them itself, so its output does not depend
// on the driver process. It implements go-runc's IO.
type hostIO struct {
	in, out, err *os.File
	// errPath and errMark let a failed create read what the runtime wrote
	// to a regular stderr file.
	errPath string
	errMark int64
}

// openStdio opens the host paths; an empty path is /dev/null. Every stream
// gets a file: a stream left to go-runc would be a pipe it reads until EOF,
// which the container, inheriting it, never gives.
func openStdio(s driver.Stdio) (_ *hostIO, retErr error) {
	h := &hostIO{errMark: -1}
	defer func() {
		if retErr != nil {
			h.Close()
		}
	}()
	var err error
	if h.in, err = openInput(s.Stdin); err != nil {
		return nil, driver.InvalidArgumentf("stdin %s: %v", s.Stdin, err)
	}
	if h.out, err = openOutput(s.Stdout); err != nil {
		return nil, driver.InvalidArgumentf("stdout %s: %v", s.Stdout, err)
	}
	if h.err, err = openOutput(s.Stderr); err != nil {
		return nil, driver.InvalidArgumentf("stderr %s: %v", s.Stderr, err)
	}
	if fi, err := h.err.Stat(); err == nil && fi.Mode().IsRegular() {
		h.errPath, h.errMark = s.Stderr, fi.Size()
	}
	return h, nil
}

// openInput opens stdin without blocking on a FIFO that has no writer yet.
func openInput(path string) (*os.File, error) {
	if path == "" {
		return os.Open(os.DevNull)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(int(f.Fd()), false); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// openOutput opens a FIFO read-write (the open never blocks, and the
// reader sees EOF once the container's copies are closed) and appends to a
// regular file.
func openOutput(path string) (*os.File, error) {
	if path == "" {
		return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
		return os.OpenFile(path, os.O_RDWR, 0)
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

// runtimeStderr returns what the runtime wrote to a regular stderr file
// since openStdio, for the error of a failed create.
func (h *hostIO) runtimeStderr() string {
	if h.errMark < 0 {
		return ""
	}
	data, err := os.ReadFile(h.errPath)
	if err != nil || int64(len(data)) <= h.errMark {
		return ""
	}
	return strings.TrimSpace(string(data[h.errMark:]))
}

// Close closes the driver's copies; the container keeps its own.
func (h *hostIO) Close() error {
	for _, f := range []*os.File{h.in, h.out, h.err} {
		if f != nil {
			f.Close()
		}
	}
	return nil
}

// Stdin has no driver-side end: the container reads the host path itself.
func (h *hostIO) Stdin() io.WriteCloser { return nil }

// Stdout has no driver-side end.
func (h *hostIO) Stdout() io.ReadCloser { return nil }

// Stderr has no driver-side end.
func (h *hostIO) Stderr() io.ReadCloser { return nil }

// Set gives the files to the runtime's command. The runtime's own error
// output goes to the container's stderr: runtimeStderr reads it back from
// a regular file.
func (h *hostIO) Set(cmd *exec.Cmd) {
	if h.in != nil {
		cmd.Stdin = h.in
	}
	if h.out != nil {
		cmd.Stdout = h.out
	}
	if h.err != nil {
		cmd.Stderr = h.err
	}
}
