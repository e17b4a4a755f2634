//go:build linux || freebsd

package freebsd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/hashicorp/go-hclog"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
	"github.com/rtd-project/rtd/kit/ocicli"
	"github.com/rtd-project/rtd/kit/ocispec"
)

const (
	// forceKillTimeout bounds how long a forced Delete waits for the
	// container to end after SIGKILL.
	forceKillTimeout = 10 * time.Second
	// exitGrace is how long State waits for the reaper of a container the
	// runtime already reports stopped.
	exitGrace = 2 * time.Second
	pollEvery = 50 * time.Millisecond
)

// engine drives a runc-compatible CLI (runj on FreeBSD, runc in the Linux
// tests) through ocicli and keeps the driver's records. The process it
// runs in is the subreaper of the containers it creates, and records their
// exit status.
type engine struct {
	rt    *ocicli.Runtime
	store store
	log   hclog.Logger

	mu      sync.Mutex
	reaping map[string]chan struct{} // closed once exit.json is written
}

func newEngine(rt *ocicli.Runtime, stateDir string, log hclog.Logger) (*engine, error) {
	if err := becomeSubreaper(); err != nil {
		return nil, fmt.Errorf("become subreaper: %w", err)
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &engine{rt: rt, store: newStore(stateDir), log: log, reaping: map[string]chan struct{}{}}, nil
}

// create writes the bundle copy the runtime gets (translated spec with an
// absolute root, runj.ext.json) and runs the runtime's create with the
// container's stdio. The workload waits for start.
func (e *engine) create(ctx context.Context, req *driver.CreateRequest) (_ *driver.CreateResponse, retErr error) {
	if err := driver.ValidateID("container id", req.ID); err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	if len(req.Rootfs) > 0 {
		return nil, driver.InvalidArgumentf("create %s: rootfs mounts are not supported: give a bundle whose root is a directory", req.ID)
	}
	if req.Stdio.Terminal {
		return nil, driver.NotImplementedf("create %s: terminals are not supported by this driver", req.ID)
	}
	spec, err := loadBundle(req.ID, req.Bundle)
	if err != nil {
		return nil, err
	}
	out, ext, err := Translate(req.ID, spec, req.Annotations)
	if err != nil {
		return nil, err
	}
	rec := &Record{ID: req.ID, Bundle: req.Bundle, Annotations: req.Annotations, CreatedAt: time.Now().UTC()}
	if err := e.store.Create(rec.ID, rec); err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			_ = e.store.Remove(req.ID)
		}
	}()
	bundle := e.store.bundleDir(req.ID)
	if err := writeBundle(bundle, out, ext); err != nil {
		return nil, fmt.Errorf("create %s: write bundle: %w", req.ID, err)
	}
	io, err := openStdio(req.Stdio)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	defer io.Close()
	pidFile := filepath.Join(e.store.Dir(req.ID), "init.pid")
	if err := e.rt.Create(ctx, req.ID, bundle, ocicli.CreateOpts{IO: io, PidFile: pidFile}); err != nil {
		if said := io.runtimeStderr(); said != "" {
			err = fmt.Errorf("%w: %s", err, said)
		}
		if !errdefs.IsAlreadyExists(err) {
			_ = e.rt.Delete(context.WithoutCancel(ctx), req.ID, false)
		}
		return nil, err
	}
	pid, err := readPid(pidFile)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	rec.Pid = pid
	if err := e.store.Save(rec.ID, rec); err != nil {
		_ = unix.Kill(pid, unix.SIGKILL)
		return nil, err
	}
	e.reap(req.ID, pid)
	return &driver.CreateResponse{Pid: uint32(pid)}, nil
}

// loadBundle reads config.json and checks what the runtime needs; its root
// becomes an absolute path (runj's default is the bundle's "root").
func loadBundle(id, bundle string) (*specs.Spec, error) {
	if bundle == "" || !filepath.IsAbs(bundle) {
		return nil, driver.InvalidArgumentf("create %s: bundle %q must be an absolute path", id, bundle)
	}
	spec, err := ocispec.Load(bundle)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", id, err)
	}
	if spec.Process == nil || len(spec.Process.Args) == 0 {
		return nil, driver.InvalidArgumentf("create %s: config.json has no process args", id)
	}
	if spec.Process.Terminal {
		return nil, driver.NotImplementedf("create %s: terminals are not supported by this driver", id)
	}
	root := "root"
	if spec.Root != nil && spec.Root.Path != "" {
		root = spec.Root.Path
	}
	if !filepath.IsAbs(root) {
		root = filepath.Join(bundle, root)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, driver.InvalidArgumentf("create %s: root filesystem %s is not a directory", id, root)
	}
	readonly := spec.Root != nil && spec.Root.Readonly
	spec.Root = &specs.Root{Path: root, Readonly: readonly}
	return spec, nil
}

func writeBundle(dir string, spec *specs.Spec, ext *Extension) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := atomicfile.WriteJSON(filepath.Join(dir, "config.json"), spec, 0o600); err != nil {
		return err
	}
	if ext != nil {
		return atomicfile.WriteJSON(filepath.Join(dir, "runj.ext.json"), ext, 0o600)
	}
	return nil
}

func readPid(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s holds %q", path, data)
	}
	return pid, nil
}

// reap waits for the container's init, a child of this process once the
// runtime's create exited, and records how it ended.
func (e *engine) reap(id string, pid int) {
	done := make(chan struct{})
	e.mu.Lock()
	e.reaping[id] = done
	e.mu.Unlock()
	go func() {
		defer close(done)
		st := waitPid(pid)
		if err := e.store.SaveExit(id, st); err != nil {
			e.log.Error("record exit status", "id", id, "error", err)
		}
	}()
}

// waitPid waits for a child; if pid is not a child (no subreaper), it
// waits for it to disappear and reports the status as unknown.
func waitPid(pid int) *driver.ExitStatus {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		st := &driver.ExitStatus{ExitedAt: time.Now().UTC()}
		switch {
		case err != nil:
			for unix.Kill(pid, 0) == nil {
				time.Sleep(pollEvery)
			}
			st.Code, st.Reason = 255, "exit status unknown: the init process was not a child of the driver ("+err.Error()+")"
		case ws.Signaled():
			st.Signal, st.Code = int32(ws.Signal()), 128+uint32(ws.Signal())
		default:
			st.Code = uint32(ws.ExitStatus())
		}
		st.ExitedAt = time.Now().UTC()
		return st
	}
}

// reaper returns the channel closed when this process recorded id's exit;
// nil when another (earlier) driver process created the container.
func (e *engine) reaper(id string) chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reaping[id]
}

func (e *engine) start(ctx context.Context, id string) error {
	if _, err := e.store.Get("start", id); err != nil {
		return err
	}
	if _, ok := e.store.Exit(id); ok {
		return driver.FailedPreconditionf("start %s: container is stopped", id)
	}
	st, err := e.rt.State(ctx, id)
	if err != nil {
		return err
	}
	if st.Status != "created" {
		return driver.FailedPreconditionf("start %s: container is %s, not created", id, st.Status)
	}
	return e.rt.Start(ctx, id)
}

func (e *engine) state(ctx context.Context, id string) (*driver.State, error) {
	rec, err := e.store.Get("state", id)
	if err != nil {
		return nil, err
	}
	return e.stateOf(ctx, rec)
}

// stateOf combines the record, the recorded exit and the runtime's view.
func (e *engine) stateOf(ctx context.Context, rec *Record) (*driver.State, error) {
	st := &driver.State{ID: rec.ID, Bundle: rec.Bundle, Pid: uint32(rec.Pid), Annotations: rec.Annotations, CreatedAt: rec.CreatedAt}
	if exit, ok := e.store.Exit(rec.ID); ok {
		st.Status, st.Exit = driver.StatusStopped, exit
		return st, nil
	}
	rs, err := e.rt.State(ctx, rec.ID)
	status := ""
	switch {
	case errdefs.IsNotFound(err):
		status = "stopped" // the runtime forgot it: it cannot be running
	case err != nil:
		return nil, err
	default:
		status = rs.Status
	}
	switch status {
	case "creating", "created":
		st.Status = driver.StatusCreated
	case "running":
		st.Status = driver.StatusRunning
	case "paused":
		st.Status = driver.StatusPaused
	case "stopped":
		st.Status, st.Exit = driver.StatusStopped, e.awaitExit(ctx, rec)
	default:
		st.Status = driver.StatusUnknown
	}
	return st, nil
}

// awaitExit returns the exit status of a container the runtime reports
// stopped, once its reaper recorded it: this process, or another driver
// process still alive. When none records it within exitGrace, no driver
// process was its reaper when it ended, and the status is recorded as lost.
func (e *engine) awaitExit(ctx context.Context, rec *Record) *driver.ExitStatus {
	done := e.reaper(rec.ID)
	deadline := time.After(exitGrace)
	for {
		if exit, ok := e.store.Exit(rec.ID); ok {
			return exit
		}
		select {
		case <-done:
			done = nil // closed: exit.json is there now, or could not be written
			continue
		case <-ctx.Done():
		case <-deadline:
		case <-time.After(pollEvery):
			continue
		}
		break
	}
	lost := &driver.ExitStatus{Code: 255, ExitedAt: time.Now().UTC(),
		Reason: "exit status lost: the container ended while no driver process was its reaper"}
	if ctx.Err() == nil && e.reaper(rec.ID) == nil {
		_ = e.store.SaveExit(rec.ID, lost)
	}
	if exit, ok := e.store.Exit(rec.ID); ok {
		return exit
	}
	return lost
}

func (e *engine) wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	rec, err := e.store.Get("wait", req.ID)
	if err != nil {
		return nil, err
	}
	if req.ExecID != "" {
		return nil, driver.NotFoundf("wait %s: exec %s: exec is not supported", req.ID, req.ExecID)
	}
	for {
		if exit, ok := e.store.Exit(req.ID); ok {
			return exit, nil
		}
		if done := e.reaper(req.ID); done != nil {
			select {
			case <-done:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		st, err := e.stateOf(ctx, rec)
		if err != nil {
			return nil, err
		}
		if st.Exit != nil {
			return st.Exit, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * pollEvery):
		}
	}
}

// kill signals the init process (or all processes). A created container's
// init is this process's child, so it is signalled directly: runj refuses
// to signal a container that is not running.
func (e *engine) kill(ctx context.Context, req *driver.KillRequest) error {
	rec, err := e.store.Get("kill", req.ID)
	if err != nil {
		return err
	}
	if req.ExecID != "" {
		return driver.NotFoundf("kill %s: exec %s: exec is not supported", req.ID, req.ExecID)
	}
	if req.Signal == 0 || req.Signal > maxSignal {
		return driver.InvalidArgumentf("kill %s: invalid signal %d", req.ID, req.Signal)
	}
	st, err := e.stateOf(ctx, rec)
	if err != nil {
		return err
	}
	switch {
	case st.Status == driver.StatusStopped:
		return driver.FailedPreconditionf("kill %s: container is stopped", req.ID)
	case st.Status == driver.StatusCreated && e.reaper(req.ID) != nil:
		if err := unix.Kill(rec.Pid, syscall.Signal(req.Signal)); err != nil {
			return fmt.Errorf("kill %s: %w", req.ID, err)
		}
		return nil
	}
	return e.rt.Kill(ctx, req.ID, int(req.Signal), req.All)
}

func (e *engine) delete(ctx context.Context, req *driver.DeleteRequest) (*driver.ExitStatus, error) {
	rec, err := e.store.Get("delete", req.ID)
	if err != nil {
		return nil, err
	}
	st, err := e.stateOf(ctx, rec)
	if err != nil {
		return nil, err
	}
	if st.Status != driver.StatusStopped {
		if !req.Force {
			return nil, driver.FailedPreconditionf("delete %s: container is %s; kill it first or force", req.ID, st.Status)
		}
		// runj's delete has no --force: kill, wait, then delete.
		if err := e.kill(ctx, &driver.KillRequest{ID: req.ID, Signal: uint32(unix.SIGKILL), All: true}); err != nil && !errdefs.IsFailedPrecondition(err) {
			return nil, err
		}
		wctx, cancel := context.WithTimeout(ctx, forceKillTimeout)
		_, err := e.wait(wctx, &driver.WaitRequest{ID: req.ID})
		cancel()
		if err != nil {
			return nil, driver.Unavailablef("delete %s: the container did not end after SIGKILL: %v", req.ID, err)
		}
	}
	if err := e.rt.Delete(ctx, req.ID, false); err != nil && !errdefs.IsNotFound(err) {
		return nil, err
	}
	exit, ok := e.store.Exit(req.ID)
	if !ok {
		exit = &driver.ExitStatus{Code: 255, ExitedAt: time.Now().UTC(), Reason: "exit status lost"}
	}
	if err := e.store.Remove(req.ID); err != nil {
		return nil, err
	}
	e.mu.Lock()
	delete(e.reaping, req.ID)
	e.mu.Unlock()
	return exit, nil
}

func (e *engine) list(ctx context.Context) ([]*driver.State, error) {
	ids, err := e.store.IDs()
	if err != nil {
		return nil, err
	}
	var out []*driver.State
	for _, id := range ids {
		rec, err := e.store.Get("list", id)
		if err != nil {
			continue // deleted meanwhile
		}
		st, err := e.stateOf(ctx, rec)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}
