package vm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/rtd-project/rtd/driver"
	imon "github.com/rtd-project/rtd/kit/monitor"
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
func (d *Driver) known(op, id string) error { return d.c.Known(op, id) }

// monitorCall runs f against the monitor of container id: its own, or its
// sandbox's. A monitor that does not answer (gone, or going) is a
// monitorGoneError.
func (d *Driver) monitorCall(ctx context.Context, id string, f func(driver.Driver) error) error {
	if sb := d.sandboxOf(id); sb != "" {
		return d.sandboxCall(ctx, sb, f)
	}
	return d.callSocket(ctx, d.layout.socketPath(id), "vm monitor of "+id, f)
}

// callSocket runs f against the monitor listening on socket.
func (d *Driver) callSocket(ctx context.Context, socket, name string, f func(driver.Driver) error) error {
	cc, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer cc.Close()
	err = f(driver.NewClient(cc, name))
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
	if req.SandboxID != "" {
		return d.createInSandbox(ctx, req)
	}
	bundle, spec, _, err := d.c.Bundle(req)
	if err != nil {
		return nil, err
	}
	if err := checkSpec(req.ID, bundle, spec); err != nil {
		return nil, err
	}
	if err := findAssets(d.exe).ready(); err != nil {
		return nil, driver.FailedPreconditionf("create %s: vm driver not ready: %v", req.ID, err)
	}
	dir, err := d.c.NewDir(req.ID, "")
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			d.reap(dir)
			os.Remove(d.layout.socketPath(req.ID))
			d.layout.removeShareSockets(req.ID)
			os.RemoveAll(dir)
		}
	}()
	unlock := d.events.Lock(req.ID, "")
	defer unlock()
	r := imon.Request{ID: req.ID, Bundle: bundle, Annotations: req.Annotations, Stdio: imon.StdioOf(req.Stdio)}
	pid, err := d.c.Launch(ctx, dir, r)
	if err != nil {
		return nil, err
	}
	if err := d.events.Record(driver.Event{Type: driver.EventCreate, ID: req.ID, Pid: uint32(pid)}); err != nil {
		return nil, err
	}
	d.log.Debug("created", "id", req.ID, "qemu", pid)
	return &driver.CreateResponse{Pid: uint32(pid)}, nil
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
	dir := d.layout.ContainerDir(id)
	if imon.ReadExit(dir) != nil {
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
	st, _, err := d.c.Record("state", id)
	if err != nil {
		return nil, err
	}
	dir := d.layout.ContainerDir(id)
	if st.Exit == nil {
		var live *driver.State
		err := d.monitorCall(ctx, id, func(m driver.Driver) (err error) { live, err = m.State(ctx, id); return err })
		if err == nil {
			live.SandboxID = d.sandboxOf(id)
			return live, nil
		}
		if !monitorGone(err) {
			return nil, err
		}
	}
	exit, err := d.exitOf(ctx, dir)
	if err != nil {
		return nil, err
	}
	st.Status, st.Exit, st.Pid = driver.StatusStopped, exit, 0
	st.SandboxID = d.sandboxOf(id)
	if rec, err := readPid(dir, monitorPidFile); err == nil && rec.Alive() {
		if q, err := readPid(dir, qemuPidFile); err == nil {
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
	if st := imon.ReadExit(dir); st != nil {
		return st, nil
	}
	// The monitor may be on its way out: give it the time to finish.
	rec, recErr := readPid(dir, monitorPidFile)
	if recErr == nil {
		deadline := time.Now().Add(monitorExitTimeout)
		for rec.Alive() && time.Now().Before(deadline) {
			if st := imon.ReadExit(dir); st != nil {
				return st, nil
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	if st := imon.ReadExit(dir); st != nil {
		return st, nil
	}
	d.reap(dir)
	st := &driver.ExitStatus{
		Code: 137, Signal: 9, ExitedAt: time.Now().UTC(),
		Reason: fmt.Sprintf("monitor lost: the vm monitor (pid %d) died; its VM was killed with it, as the container's output and exit could no longer be watched", rec.Pid),
	}
	if prev := imon.ReadExit(dir); prev != nil {
		return prev, nil
	}
	// Returned even when the disk refuses it.
	_ = imon.WriteExit(dir, st)
	return st, nil
}

// reap makes sure neither the monitor nor QEMU of a container dir is left.
func (d *Driver) reap(dir string) {
	for _, name := range []string{monitorPidFile, qemuPidFile} {
		rec, err := readPid(dir, name)
		if err != nil || !rec.Alive() {
			continue
		}
		_ = syscall.Kill(-rec.Pid, syscall.SIGKILL)
		_ = syscall.Kill(rec.Pid, syscall.SIGKILL)
		deadline := time.Now().Add(5 * time.Second)
		for rec.Alive() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// Wait blocks until the process's exit status is recorded and returns it.
func (d *Driver) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	if _, err := d.c.KnownProc("wait", req.ID, req.ExecID); err != nil {
		return nil, err
	}
	return d.wait(ctx, req.ID, req.ExecID)
}

func (d *Driver) wait(ctx context.Context, id, execID string) (*driver.ExitStatus, error) {
	dir, pdir := d.layout.ContainerDir(id), d.layout.ProcDir(id, execID)
	if st := imon.ReadExit(pdir); st != nil {
		return st, nil
	}
	var st *driver.ExitStatus
	err := d.monitorCall(ctx, id, func(m driver.Driver) (err error) {
		st, err = m.Wait(ctx, &driver.WaitRequest{ID: id, ExecID: execID})
		return err
	})
	switch {
	case err == nil:
		if imon.ReadExit(pdir) == nil {
			// A monitor that could not write it (a full disk) holds
			// it: recorded here when the disk has room again.
			_ = imon.WriteExit(pdir, st)
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
	if st := imon.ReadExit(pdir); st != nil {
		return st, nil
	}
	exit, err := d.exitOf(ctx, dir)
	if err != nil {
		return nil, err
	}
	st = &driver.ExitStatus{Code: 255, ExitedAt: exit.ExitedAt, Reason: "the container stopped before this process's status was recorded"}
	_ = imon.WriteExit(pdir, st)
	return st, nil
}

// Kill signals the init process, an exec'd process, or with All every
// process of the container, in the guest.
func (d *Driver) Kill(ctx context.Context, req *driver.KillRequest) error {
	if err := imon.CheckSignal(req); err != nil {
		return err
	}
	if req.ExecID != "" {
		pdir, err := d.c.KnownProc("kill", req.ID, req.ExecID)
		if err != nil {
			return err
		}
		if imon.ReadExit(pdir) != nil {
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
	dir := d.layout.ContainerDir(req.ID)
	exit := imon.ReadExit(dir)
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
	if sb := d.sandboxOf(req.ID); sb != "" {
		if err := d.deleteFromSandbox(ctx, sb, req.ID); err != nil {
			return nil, fmt.Errorf("delete %s: %w", req.ID, err)
		}
	} else {
		d.awaitMonitor(ctx, dir)
	}
	if err := d.events.Deleted(req.ID, exit); err != nil {
		d.log.Warn("events", "id", req.ID, "error", err)
	}
	os.Remove(d.layout.socketPath(req.ID))
	d.layout.removeShareSockets(req.ID) // left by a monitor that was killed
	if err := removeDir(dir); err != nil {
		return nil, fmt.Errorf("delete %s: %w", req.ID, err)
	}
	return exit, nil
}

// removeDir removes a container's directory. A process of the container
// that is still ending (a monitor killed after its grace time, QEMU's
// helpers) can create a file between RemoveAll's read of a directory and
// its rmdir (ENOTEMPTY, seen under load in runtime-tools' killsig): try a
// few times before giving up.
func removeDir(dir string) error {
	var err error
	for i := 0; i < 20; i++ {
		if err = os.RemoveAll(dir); err == nil || !errors.Is(err, syscall.ENOTEMPTY) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

// awaitMonitor lets a monitor whose container stopped finish its teardown,
// and kills it (and its QEMU) when it does not.
func (d *Driver) awaitMonitor(ctx context.Context, dir string) {
	if rec, err := readPid(dir, monitorPidFile); err == nil {
		deadline := time.Now().Add(monitorExitTimeout)
		for rec.Alive() && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
	d.reap(dir)
}

// List returns the state of every container the driver knows.
func (d *Driver) List(ctx context.Context) ([]*driver.State, error) {
	return d.c.List(ctx, d.State)
}
