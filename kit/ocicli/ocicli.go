package ocicli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	runc "github.com/containerd/go-runc"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// Runtime is one runtime binary with its state root and global flags.
type Runtime struct {
	// Name labels errors ("runsc").
	Name string
	// Binary is the executable path.
	Binary string
	// Root is the runtime's state directory (--root).
	Root string
	// GlobalArgs go before the subcommand (e.g. --platform=ptrace).
	GlobalArgs []string
	// LogDir, when set, receives one JSON log file per container
	// (--log DIR/ID.log), whose tail is added to errors.
	LogDir string
}

// New returns a Runtime; binary may be a name looked up in PATH.
func New(name, binary, root string, globalArgs ...string) (*Runtime, error) {
	path, err := exec.LookPath(binary)
	if err != nil {
		return nil, driver.Unavailablef("%s: %s not found in PATH: install it or configure its path", name, binary)
	}
	return &Runtime{Name: name, Binary: path, Root: root, GlobalArgs: globalArgs}, nil
}

func (rt *Runtime) client(id string) *runc.Runc {
	r := &runc.Runc{Command: rt.Binary, Root: rt.Root, ExtraArgs: rt.GlobalArgs}
	if rt.LogDir != "" && id != "" {
		r.Log = rt.logPath(id)
		r.LogFormat = runc.JSON
	}
	return r
}

func (rt *Runtime) logPath(id string) string { return filepath.Join(rt.LogDir, id+".log") }

// call runs f and classifies its error with the log lines f produced.
func (rt *Runtime) call(op, id string, f func() error) error {
	var off int64
	if rt.LogDir != "" && id != "" {
		if fi, err := os.Stat(rt.logPath(id)); err == nil {
			off = fi.Size()
		}
	}
	return rt.classify(op, id, off, f())
}

// CreateOpts configure Create.
type CreateOpts struct {
	// IO is the workload's stdio (go-runc's runc.IO); nil connects it to
	// /dev/null.
	IO            runc.IO
	PidFile       string
	ConsoleSocket runc.ConsoleSocket
	ExtraFiles    []*os.File
}

// Create creates a container from a bundle; the workload waits for Start.
func (rt *Runtime) Create(ctx context.Context, id, bundle string, o CreateOpts) error {
	if o.IO == nil {
		// Without IO go-runc captures the runtime's output in a pipe that
		// the daemonized container inherits, and never sees its end.
		null, err := newNullIO()
		if err != nil {
			return err
		}
		defer null.Close()
		o.IO = null
	}
	return rt.call("create", id, func() error {
		return rt.client(id).Create(ctx, id, bundle, &runc.CreateOpts{
			IO: o.IO, PidFile: o.PidFile, ConsoleSocket: o.ConsoleSocket, ExtraFiles: o.ExtraFiles,
		})
	})
}

// Start runs the created workload.
func (rt *Runtime) Start(ctx context.Context, id string) error {
	return rt.call("start", id, func() error { return rt.client(id).Start(ctx, id) })
}

// State returns the runtime's view of a container.
func (rt *Runtime) State(ctx context.Context, id string) (*runc.Container, error) {
	var c *runc.Container
	err := rt.call("state", id, func() (err error) { c, err = rt.client(id).State(ctx, id); return err })
	return c, err
}

// List returns every container under Root.
func (rt *Runtime) List(ctx context.Context) ([]*runc.Container, error) {
	l, err := rt.client("").List(ctx)
	return l, rt.classify("list", "", 0, err)
}

// Kill signals the init process, or every process with all.
func (rt *Runtime) Kill(ctx context.Context, id string, sig int, all bool) error {
	return rt.call("kill", id, func() error { return rt.client(id).Kill(ctx, id, sig, &runc.KillOpts{All: all}) })
}

// Delete removes a container; force kills it first.
func (rt *Runtime) Delete(ctx context.Context, id string, force bool) error {
	err := rt.call("delete", id, func() error { return rt.client(id).Delete(ctx, id, &runc.DeleteOpts{Force: force}) })
	if err == nil && rt.LogDir != "" {
		os.Remove(rt.logPath(id))
	}
	return err
}

// ExecOpts configure Exec.
type ExecOpts struct {
	IO            runc.IO
	PidFile       string
	ConsoleSocket runc.ConsoleSocket
	Detach        bool
}

// Exec runs an additional process in the container. Without Detach it
// returns when the process ends; an *runc.ExitError carries its status.
func (rt *Runtime) Exec(ctx context.Context, id string, p specs.Process, o ExecOpts) error {
	var ee *runc.ExitError
	return rt.call("exec", id, func() error {
		err := rt.client(id).Exec(ctx, id, p, &runc.ExecOpts{IO: o.IO, PidFile: o.PidFile, ConsoleSocket: o.ConsoleSocket, Detach: o.Detach})
		if errors.As(err, &ee) && !o.Detach {
			return execExit{ee} // the process's own exit status
		}
		return err
	})
}

// Pause freezes the container.
func (rt *Runtime) Pause(ctx context.Context, id string) error {
	return rt.call("pause", id, func() error { return rt.client(id).Pause(ctx, id) })
}

// Resume thaws the container.
func (rt *Runtime) Resume(ctx context.Context, id string) error {
	return rt.call("resume", id, func() error { return rt.client(id).Resume(ctx, id) })
}

// Ps lists the container's host pids.
func (rt *Runtime) Ps(ctx context.Context, id string) ([]int, error) {
	var pids []int
	err := rt.call("ps", id, func() (err error) { pids, err = rt.client(id).Ps(ctx, id); return err })
	return pids, err
}

// Update changes the container's resources.
func (rt *Runtime) Update(ctx context.Context, id string, r *specs.LinuxResources) error {
	return rt.call("update", id, func() error { return rt.client(id).Update(ctx, id, r) })
}

// Version returns the first line of `BINARY --version`.
func (rt *Runtime) Version(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, rt.Binary, "--version").CombinedOutput()
	if err != nil {
		return "", rt.classify("version", "", 0, fmt.Errorf("%w: %s", err, out))
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line, nil
}

// FileIO returns a runc.IO that hands the given files to the runtime as
// its stdin, stdout and stderr; runc passes them on to the container's
// process (its "pass-through" mode), so the workload writes to them
// directly. A nil file is /dev/null. Close does not close the files.
func FileIO(stdin, stdout, stderr *os.File) runc.IO { return fileIO{stdin, stdout, stderr} }

type fileIO struct{ in, out, err *os.File }

func (fileIO) Close() error          { return nil }
func (fileIO) Stdin() io.WriteCloser { return nil }
func (fileIO) Stdout() io.ReadCloser { return nil }
func (fileIO) Stderr() io.ReadCloser { return nil }
func (f fileIO) Set(cmd *exec.Cmd) {
	if f.in != nil {
		cmd.Stdin = f.in
	}
	if f.out != nil {
		cmd.Stdout = f.out
	}
	if f.err != nil {
		cmd.Stderr = f.err
	}
}

// nullIO connects a runtime command's stdio to /dev/null.
type nullIO struct{ f *os.File }

func newNullIO() (*nullIO, error) {
	f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return &nullIO{f: f}, nil
}

func (n *nullIO) Close() error          { return n.f.Close() }
func (n *nullIO) Stdin() io.WriteCloser { return nil }
func (n *nullIO) Stdout() io.ReadCloser { return nil }
func (n *nullIO) Stderr() io.ReadCloser { return nil }
func (n *nullIO) Set(cmd *exec.Cmd)     { cmd.Stdin, cmd.Stdout, cmd.Stderr = n.f, n.f, n.f }

// execExit carries the exit status of a foreground exec through call
// unclassified; errors.As finds the *runc.ExitError inside.
type execExit struct{ *runc.ExitError }

func (e execExit) Unwrap() error { return e.ExitError }
