package vm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/rtd-project/rtd/driver"
	imon "github.com/rtd-project/rtd/kit/monitor"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// Timeouts of the driver process.
const (
	// deleteTimeout bounds a forced Delete: the kill, the exit record and
	// the monitor's teardown.
	deleteTimeout = 30 * time.Second
	// monitorExitTimeout bounds the wait for a monitor to exit after its
	// container stopped, before it is killed.
	monitorExitTimeout = 15 * time.Second
)

// known fails with NotFound unless the container has a dir.
func (d *Driver) known(op, id string) error {
	if err := validateID("container id", id); err != nil {
		return err
	}
	if _, err := os.Stat(d.layout.containerDir(id)); err != nil {
		return driver.NotFoundf("%s %s: no such container", op, id)
	}
	return nil
}

// monitorCall runs f against the monitor of container id. A monitor that
// does not answer (gone, or going) is a monitorGoneError.
func (d *Driver) monitorCall(ctx context.Context, id string, f func(driver.Driver) error) error {
	cc, err := grpc.NewClient("unix://"+d.layout.socketPath(id), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer cc.Close()
	err = f(driver.NewClient(cc, "vm monitor of "+id))
	if err != nil && ctx.Err() == nil && errdefs.IsUnavailable(err) {
		return monitorGoneError{}
	}
	return err
}

// monitorGoneError says nothing answers on a monitor's socket: the
// container stopped (or its monitor died).
type monitorGoneError struct{}

func (monitorGoneError) Error() string { return "the container's monitor does not answer" }

func monitorGone(err error) bool {
	_, ok := err.(monitorGoneError)
	return ok
}

// Create validates the bundle and starts the container's monitor, which
// boots the VM and creates the container in it; the workload waits for Start.
func (d *Driver) Create(ctx context.Context, req *driver.CreateRequest) (_ *driver.CreateResponse, retErr error) {
	if err := validateID("container id", req.ID); err != nil {
		return nil, err
	}
	if len(req.Rootfs) > 0 {
		return nil, driver.InvalidArgumentf("create %s: rootfs mounts are not supported by the vm driver; give a bundle whose root.path is a directory", req.ID)
	}
	bundle, err := filepath.Abs(req.Bundle)
	if err != nil {
		return nil, driver.InvalidArgumentf("create %s: bundle %q: %v", req.ID, req.Bundle, err)
	}
	spec, err := ocispec.Load(bundle)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	if err := checkSpec(req.ID, bundle, spec); err != nil {
		return nil, err
	}
	if err := findAssets(d.exe).ready(); err != nil {
		return nil, driver.FailedPreconditionf("create %s: vm driver not ready: %v", req.ID, err)
	}
	if err := os.MkdirAll(d.layout.containersDir(), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	dir := d.layout.containerDir(req.ID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if os.IsExist(err) {
			return nil, driver.AlreadyExistsf("create %s: a container with this id already exists", req.ID)
		}
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	defer func() {
		if retErr != nil {
			d.reap(dir)
			os.Remove(d.layout.socketPath(req.ID))
			os.RemoveAll(dir)
		}
	}()
	unlock := d.events.Lock(req.ID, "")
	defer unlock()
	r := request{ID: req.ID, Bundle: bundle, Annotations: req.Annotations, Stdio: req.Stdio, CreatedAt: time.Now().UnixNano()}
	if err := writeJSONAtomic(filepath.Join(dir, "request.json"), r); err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	pid, err := d.spawnMonitor(ctx, dir)
	if err != nil {
		return nil, err
	}
	if err := d.events.Record(driver.Event{Type: driver.EventCreate, ID: req.ID, Pid: uint32(pid)}); err != nil {
		return nil, err
	}
	d.log.Debug("created", "id", req.ID, "qemu", pid)
	return &driver.CreateResponse{Pid: uint32(pid)}, nil
}

// spawnMonitor starts "rtd-vm-monitor STATE DIR" in its own session and
// waits for its start report. The monitor outlives this process.
func (d *Driver) spawnMonitor(ctx context.Context, dir string) (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	logPath := filepath.Join(dir, "monitor.log")
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		w.Close()
		return 0, err
	}
	cmd := &exec.Cmd{
		Path:        d.exe,
		Args:        []string{monitorName, d.layout.root, dir},
		Env:         monitorEnv(),
		Stdout:      logf,
		Stderr:      logf,
		ExtraFiles:  []*os.File{w},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	w.Close()
	logf.Close()
	if err != nil {
		return 0, fmt.Errorf("start monitor: %w", err)
	}
	go cmd.Wait() // reap it if it ends while this process lives
	_ = recordPid(filepath.Join(dir, "monitor.pid"), cmd.Process.Pid)
	stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer stop()
	var rep startReport
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("monitor exited before reporting: %s", tail(logPath))
	}
	if rep.Error != "" {
		return 0, imon.ClassedError(rep.Class, rep.Error)
	}
	return rep.Pid, nil
}

// monitorEnv passes the monitor what it needs: PATH and the driver's own
// settings, nothing of go-plugin's.
func monitorEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		for _, p := range []string{"PATH=", "GOMAXPROCS=", "GORACE=", "GOTRACEBACK=", "RTD_VM_"} {
			if strings.HasPrefix(kv, p) {
				env = append(env, kv)
			}
		}
	}
	return env
}

// tail returns the last lines of a log file for an error message.
func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return "(no output)"
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "; ")
}

// Start lets the created workload run.
func (d *Driver) Start(ctx context.Context, id string) error {
	return d.journaled(ctx, driver.EventStart, id, func(m driver.Driver) error { return m.Start(ctx, id) })
}

// running runs a call against the monitor of a container that has not
// stopped; a stopped container is FailedPrecondition.
func (d *Driver) running(ctx context.Context, op, id string, f func(driver.Driver) error) error {
	if err := d.known(op, id); err != nil {
		return err
	}
	dir := d.layout.containerDir(id)
	if readExit(dir) != nil {
		return driver.FailedPreconditionf("%s %s: container is stopped", op, id)
	}
	err := d.monitorCall(ctx, id, f)
	if monitorGone(err) {
		return driver.FailedPreconditionf("%s %s: container is stopped", op, id)
	}
	return err
}

// State reports the container's status: from its monitor while the VM
// runs, from the exit record afterwards.
func (d *Driver) State(ctx context.Context, id string) (*driver.State, error) {
	if err := d.known("state", id); err != nil {
		return nil, err
	}
	dir := d.layout.containerDir(id)
	var req request
	if err := readJSON(filepath.Join(dir, "request.json"), &req); err != nil {
		return nil, driver.NotFoundf("state %s: container record unreadable: %v", id, err)
	}
	if readExit(dir) == nil {
		var st *driver.State
		err := d.monitorCall(ctx, id, func(m driver.Driver) (err error) { st, err = m.State(ctx, id); return err })
		if err == nil {
			return st, nil
		}
		if !monitorGone(err) {
			return nil, err
		}
	}
	exit, err := d.exitOf(ctx, dir)
	if err != nil {
		return nil, err
	}
	st := &driver.State{
		ID: id, Bundle: req.Bundle, Annotations: req.Annotations, Status: driver.StatusStopped,
		CreatedAt: time.Unix(0, req.CreatedAt).UTC(), Exit: exit,
	}
	if rec, err := readPidRecord(filepath.Join(dir, "monitor.pid")); err == nil && rec.alive() {
		if q, err := readPidRecord(filepath.Join(dir, "qemu.pid")); err == nil {
			st.Pid = uint32(q.Pid)
		}
	}
	return st, nil
}

// exitOf returns the recorded exit status of a container whose monitor is
// gone. A monitor that died without recording it took its VM along (QEMU
// has Pdeathsig; reap makes sure): as with the other drivers' monitors
// (docs/robustness.md), the exit is recorded as lost, 137 killed, with the
// reason.
func (d *Driver) exitOf(ctx context.Context, dir string) (*driver.ExitStatus, error) {
	if st := readExit(dir); st != nil {
		return st, nil
	}
	// The monitor may be on its way out: give it the time to finish.
	rec, recErr := readPidRecord(filepath.Join(dir, "monitor.pid"))
	if recErr == nil {
		deadline := time.Now().Add(monitorExitTimeout)
		for rec.alive() && time.Now().Before(deadline) {
			if st := readExit(dir); st != nil {
				return st, nil
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	if st := readExit(dir); st != nil {
		return st, nil
	}
	d.reap(dir)
	st := &driver.ExitStatus{
		Code: 137, Signal: 9, ExitedAt: time.Now().UTC(),
		Reason: fmt.Sprintf("monitor lost: the vm monitor (pid %d) died; its VM was killed with it, as the container's output and exit could no longer be watched", rec.Pid),
	}
	if prev := readExit(dir); prev != nil {
		return prev, nil
	}
	// Returned even when the disk refuses it.
	_ = writeJSONAtomic(filepath.Join(dir, "exit.json"), st)
	return st, nil
}

// reap makes sure neither the monitor nor QEMU of a container dir is left.
func (d *Driver) reap(dir string) {
	for _, name := range []string{"monitor.pid", "qemu.pid"} {
		rec, err := readPidRecord(filepath.Join(dir, name))
		if err != nil || !rec.alive() {
			continue
		}
		_ = syscall.Kill(-rec.Pid, syscall.SIGKILL)
		_ = syscall.Kill(rec.Pid, syscall.SIGKILL)
		deadline := time.Now().Add(5 * time.Second)
		for rec.alive() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// Wait blocks until the process's exit status is recorded and returns it.
func (d *Driver) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	if err := d.known("wait", req.ID); err != nil {
		return nil, err
	}
	if req.ExecID != "" {
		if _, err := os.Stat(d.layout.execDir(req.ID, req.ExecID)); err != nil {
			return nil, driver.NotFoundf("wait %s: no such exec %q", req.ID, req.ExecID)
		}
	}
	return d.wait(ctx, req.ID, req.ExecID)
}

func (d *Driver) wait(ctx context.Context, id, execID string) (*driver.ExitStatus, error) {
	dir := d.layout.containerDir(id)
	pdir := dir
	if execID != "" {
		pdir = d.layout.execDir(id, execID)
	}
	if st := readExit(pdir); st != nil {
		return st, nil
	}
	var st *driver.ExitStatus
	err := d.monitorCall(ctx, id, func(m driver.Driver) (err error) {
		st, err = m.Wait(ctx, &driver.WaitRequest{ID: id, ExecID: execID})
		return err
	})
	switch {
	case err == nil:
		if readExit(pdir) == nil {
			// A monitor that could not write it (a full disk) holds
			// it: recorded here when the disk has room again.
			_ = writeJSONAtomic(filepath.Join(pdir, "exit.json"), st)
		}
		return st, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case !monitorGone(err):
		return nil, err
	}
	if execID == "" {
		return d.exitOf(ctx, dir)
	}
	if st := readExit(pdir); st != nil {
		return st, nil
	}
	exit, err := d.exitOf(ctx, dir)
	if err != nil {
		return nil, err
	}
	st = &driver.ExitStatus{Code: 255, ExitedAt: exit.ExitedAt, Reason: "the container stopped before this process's status was recorded"}
	_ = writeJSONAtomic(filepath.Join(pdir, "exit.json"), st)
	return st, nil
}

// Kill signals the init process, an exec'd process, or with All every
// process of the container, in the guest.
func (d *Driver) Kill(ctx context.Context, req *driver.KillRequest) error {
	if req.Signal == 0 || req.Signal > 64 {
		return driver.InvalidArgumentf("kill %s: invalid signal %d", req.ID, req.Signal)
	}
	if req.ExecID != "" {
		if err := d.known("kill", req.ID); err != nil {
			return err
		}
		pdir := d.layout.execDir(req.ID, req.ExecID)
		if _, err := os.Stat(pdir); err != nil {
			return driver.NotFoundf("kill %s: no such exec %q", req.ID, req.ExecID)
		}
		if readExit(pdir) != nil {
			return driver.FailedPreconditionf("kill %s: exec %s is not running", req.ID, req.ExecID)
		}
	}
	return d.running(ctx, "kill", req.ID, func(m driver.Driver) error { return m.Kill(ctx, req) })
}

// Delete removes a stopped container (Force kills a running one first) and
// everything the driver kept for it.
func (d *Driver) Delete(ctx context.Context, req *driver.DeleteRequest) (*driver.ExitStatus, error) {
	if err := d.known("delete", req.ID); err != nil {
		return nil, err
	}
	dir := d.layout.containerDir(req.ID)
	exit := readExit(dir)
	if exit == nil {
		st, err := d.State(ctx, req.ID)
		switch {
		case err == nil:
			exit = st.Exit
		case !req.Force || errdefs.IsNotFound(err) || ctx.Err() != nil:
			return nil, err
		default:
			st = &driver.State{Status: driver.StatusUnknown}
		}
		if exit == nil {
			if !req.Force {
				return nil, driver.FailedPreconditionf("delete %s: container is %s; kill it first or force", req.ID, st.Status)
			}
			_ = d.monitorCall(ctx, req.ID, func(m driver.Driver) error {
				return m.Kill(ctx, &driver.KillRequest{ID: req.ID, Signal: uint32(syscall.SIGKILL), All: true})
			})
			wctx, cancel := context.WithTimeout(ctx, deleteTimeout)
			exit, err = d.wait(wctx, req.ID, "")
			cancel()
			if err != nil {
				return nil, driver.Unavailablef("delete %s: the container did not end: %v", req.ID, err)
			}
		}
	}
	d.awaitMonitor(ctx, dir)
	if err := d.events.Deleted(req.ID, exit); err != nil {
		d.log.Warn("events", "id", req.ID, "error", err)
	}
	os.Remove(d.layout.socketPath(req.ID))
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("delete %s: %w", req.ID, err)
	}
	return exit, nil
}

// awaitMonitor lets a monitor whose container stopped finish its teardown,
// and kills it (and its QEMU) when it does not.
func (d *Driver) awaitMonitor(ctx context.Context, dir string) {
	if rec, err := readPidRecord(filepath.Join(dir, "monitor.pid")); err == nil {
		deadline := time.Now().Add(monitorExitTimeout)
		for rec.alive() && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
	d.reap(dir)
}

// List returns the state of every container the driver knows.
func (d *Driver) List(ctx context.Context) ([]*driver.State, error) {
	entries, err := os.ReadDir(d.layout.containersDir())
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var out []*driver.State
	for _, e := range entries {
		st, err := d.State(ctx, e.Name())
		if err != nil {
			continue // deleted meanwhile
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}
