package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/conformance/probe"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// maxCapture bounds what a capture keeps in memory.
const maxCapture = 64 << 20

// capture reads everything a driver writes to a FIFO.
type capture struct {
	path string
	done chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
	n    int64
}

func newCapture(path string) (*capture, error) {
	if err := mkfifo(path); err != nil {
		return nil, err
	}
	c := &capture{path: path, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		f, err := os.Open(path) // blocks until the driver opens it
		if err != nil {
			return
		}
		defer f.Close()
		b := make([]byte, 64*1024)
		for {
			n, err := f.Read(b)
			c.mu.Lock()
			c.n += int64(n)
			if c.buf.Len()+n <= maxCapture {
				c.buf.Write(b[:n])
			}
			c.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return c, nil
}

// wait returns everything once the writer closed the FIFO.
func (c *capture) wait(ctx context.Context) ([]byte, error) {
	select {
	case <-c.done:
		return c.bytes(), nil
	case <-ctx.Done():
		return c.bytes(), fmt.Errorf("output not closed by the driver after the process ended (got %d bytes): %w", c.n, ctx.Err())
	}
}

// waitFor polls until the output contains want.
func (c *capture) waitFor(ctx context.Context, want string) error {
	for {
		if strings.Contains(string(c.bytes()), want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("output never showed %q (got %q)", want, truncate(string(c.bytes()), 200))
		case <-c.done:
			if strings.Contains(string(c.bytes()), want) {
				return nil
			}
			return fmt.Errorf("output ended without %q (got %q)", want, truncate(string(c.bytes()), 200))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (c *capture) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf.Bytes()...)
}

// release unblocks a reader still waiting for a writer that never came.
func (c *capture) release() {
	if f, err := os.OpenFile(c.path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		f.Close()
	}
}

// Container is a probe container created by a case.
type Container struct {
	s      *Session
	ioDir  string
	ID     string
	Bundle string
	Stdout *capture
	Stderr *capture
	// Stdin is the FIFO feeding the process's stdin, when asked for.
	Stdin string
}

// opts describe a probe container.
type opts struct {
	probe    []string          // probe command and args
	modify   func(*specs.Spec) // last changes to the spec
	stdin    bool              // give the process a stdin FIFO
	terminal bool              // allocate a terminal
	id       string            // explicit id (default: generated)
	sandbox  string            // the sandbox to create it in
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// spec returns the default probe spec for args.
func (s *Session) spec(args []string) *specs.Spec {
	sp := ocispec.Default(s.rootfs, append([]string{"/probe"}, args...))
	sp.Mounts = append(sp.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777"}})
	for k, v := range s.cfg.Annotations {
		if sp.Annotations == nil {
			sp.Annotations = map[string]string{}
		}
		sp.Annotations[k] = v
	}
	return sp
}

// create writes a bundle and creates (does not start) a probe container.
func (s *Session) create(ctx context.Context, tag string, o opts) (*Container, error) {
	id := o.id
	if id == "" {
		id = s.newID(tag)
	}
	sp := s.spec(o.probe)
	sp.Process.Terminal = o.terminal
	if o.modify != nil {
		o.modify(sp)
	}
	// Directories are per call, not per id: a duplicate Create must not
	// touch the files of the container already using the id.
	s.mu.Lock()
	s.seq++
	dirName := fmt.Sprintf("%d-%s", s.seq, id)
	s.mu.Unlock()
	bundle := filepath.Join(s.work, "bundles", dirName)
	if err := os.MkdirAll(bundle, 0o700); err != nil {
		return nil, err
	}
	data, _ := json.MarshalIndent(sp, "", "  ")
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600); err != nil {
		return nil, err
	}
	ioDir := filepath.Join(s.work, "io", dirName)
	c := &Container{s: s, ID: id, Bundle: bundle, ioDir: ioDir}
	if err := os.MkdirAll(ioDir, 0o700); err != nil {
		return nil, err
	}
	var err error
	if c.Stdout, err = newCapture(filepath.Join(ioDir, "stdout")); err != nil {
		return nil, err
	}
	stdio := driver.Stdio{Stdout: c.Stdout.path, Terminal: o.terminal}
	if !o.terminal {
		if c.Stderr, err = newCapture(filepath.Join(ioDir, "stderr")); err != nil {
			return nil, err
		}
		stdio.Stderr = c.Stderr.path
	}
	if o.stdin {
		c.Stdin = filepath.Join(ioDir, "stdin")
		if err := mkfifo(c.Stdin); err != nil {
			return nil, err
		}
		stdio.Stdin = c.Stdin
	}
	s.track(id, true)
	_, err = s.client.Create(ctx, &driver.CreateRequest{ID: id, Bundle: bundle, Stdio: stdio, SandboxID: o.sandbox})
	if err != nil {
		c.release()
		s.track(id, false)
		return nil, err
	}
	return c, nil
}

// run creates and starts a probe container.
func (s *Session) run(ctx context.Context, tag string, o opts) (*Container, error) {
	c, err := s.create(ctx, tag, o)
	if err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	if err := s.client.Start(ctx, c.ID); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.ID, err)
	}
	return c, nil
}

// runReady runs a probe container and waits until its stdout says "ready":
// the probe prints it once set up (ready-sleep, trap-term, ignore-term,
// winsize).
func (s *Session) runReady(ctx context.Context, tag string, o opts) (*Container, error) {
	c, err := s.run(ctx, tag, o)
	if err != nil {
		return nil, err
	}
	if err := c.Stdout.waitFor(ctx, "ready"); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Container) release() {
	c.Stdout.release()
	if c.Stderr != nil {
		c.Stderr.release()
	}
}

// wait waits for the init process to end.
func (c *Container) wait(ctx context.Context) (*driver.ExitStatus, error) {
	st, err := c.s.client.Wait(ctx, &driver.WaitRequest{ID: c.ID})
	if err != nil {
		return nil, fmt.Errorf("wait %s: %w", c.ID, err)
	}
	return st, nil
}

// output waits for the process to end and returns its stdout.
func (c *Container) output(ctx context.Context) (*driver.ExitStatus, []byte, error) {
	st, err := c.wait(ctx)
	if err != nil {
		return nil, nil, err
	}
	out, err := c.Stdout.wait(ctx)
	return st, out, err
}

// report runs the probe's "report" and parses it.
func (s *Session) report(ctx context.Context, tag string, modify func(*specs.Spec)) (*probe.Report, error) {
	c, err := s.run(ctx, tag, opts{probe: []string{"report"}, modify: modify})
	if err != nil {
		return nil, err
	}
	defer c.delete(ctx)
	st, out, err := c.output(ctx)
	if err != nil {
		return nil, err
	}
	if st.Code != 0 {
		errOut, _ := c.Stderr.wait(ctx)
		return nil, fmt.Errorf("probe report exited %d: %s", st.Code, truncate(string(errOut), 300))
	}
	var r probe.Report
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("probe report unreadable (%v): %q", err, truncate(string(out), 200))
	}
	return &r, nil
}

// delete removes the container (it must have stopped).
func (c *Container) delete(ctx context.Context) error {
	_, err := c.s.client.Delete(ctx, &driver.DeleteRequest{ID: c.ID})
	if err == nil {
		c.s.track(c.ID, false)
	}
	c.release()
	return err
}

// kill sends sig to the init process.
func (c *Container) kill(ctx context.Context, sig syscall.Signal, all bool) error {
	return c.s.client.Kill(ctx, &driver.KillRequest{ID: c.ID, Signal: uint32(sig), All: all})
}

// sigkill sends SIGKILL to the init process and waits for its exit status,
// which must be code 137 (128 + 9).
func (c *Container) sigkill(ctx context.Context) (*driver.ExitStatus, error) {
	if err := c.kill(ctx, syscall.SIGKILL, false); err != nil {
		return nil, err
	}
	st, err := c.wait(ctx)
	if err != nil {
		return nil, err
	}
	if st.Code != 137 {
		return st, fmt.Errorf("exit %+v, want 137", st)
	}
	return st, nil
}

// state returns the container's state.
func (c *Container) state(ctx context.Context) (*driver.State, error) {
	return c.s.client.State(ctx, c.ID)
}
