//go:build windows

package windows

import (
	"io"
	"os"
	"strings"
	"sync"
	"time"

	winio "github.com/Microsoft/go-winio"
	"github.com/Microsoft/hcsshim"

	"github.com/rtd-project/rtd/driver"
)

// pipeDialTimeout bounds connecting to a named pipe the core serves.
const pipeDialTimeout = 10 * time.Second

// hostStdio holds the host ends of a process's stdio: regular files or
// named pipes (\\.\pipe\NAME) the core created. Empty paths are discarded.
type hostStdio struct {
	in          io.ReadCloser
	out, errOut io.WriteCloser
}

func openStdio(s driver.Stdio) (_ *hostStdio, retErr error) {
	h := &hostStdio{}
	defer func() {
		if retErr != nil {
			h.close()
		}
	}()
	var err error
	if s.Stdin != "" {
		if h.in, err = openHost(s.Stdin, os.O_RDONLY); err != nil {
			return nil, err
		}
	}
	if s.Stdout != "" {
		if h.out, err = openHost(s.Stdout, os.O_WRONLY|os.O_CREATE|os.O_APPEND); err != nil {
			return nil, err
		}
	}
	if s.Stderr != "" && !s.Terminal {
		if h.errOut, err = openHost(s.Stderr, os.O_WRONLY|os.O_CREATE|os.O_APPEND); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// openHost opens a named pipe as a client, or a file.
func openHost(path string, flag int) (io.ReadWriteCloser, error) {
	if strings.HasPrefix(strings.ToLower(path), pipePrefix) {
		timeout := pipeDialTimeout
		return winio.DialPipe(path, &timeout)
	}
	return os.OpenFile(path, flag, 0o600)
}

// copy pumps the process's pipes to and from the host ends. The returned
// channel is closed once stdout and stderr reached EOF.
func (h *hostStdio) copy(p hcsshim.Process) (<-chan struct{}, error) {
	done := make(chan struct{})
	stdin, stdout, stderr, err := p.Stdio()
	if err != nil {
		h.close()
		close(done)
		return done, err
	}
	if h.in != nil && stdin != nil {
		go func() {
			_, _ = io.Copy(stdin, h.in)
			_ = p.CloseStdin()
			h.in.Close()
		}()
	}
	var wg sync.WaitGroup
	pump := func(dst io.WriteCloser, src io.ReadCloser) {
		if dst == nil || src == nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = io.Copy(dst, src)
			dst.Close()
		}()
	}
	pump(h.out, stdout)
	pump(h.errOut, stderr)
	go func() {
		wg.Wait()
		close(done)
	}()
	return done, nil
}

// close closes the host ends (errors are moot: the process is gone).
func (h *hostStdio) close() {
	for _, c := range []io.Closer{h.in, h.out, h.errOut} {
		if c != nil {
			_ = c.Close()
		}
	}
}
