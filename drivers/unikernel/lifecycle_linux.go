package unikernel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/vmm"
	"github.com/rtd-project/rtd/kit/monitor"
)

// deleteKillTimeout bounds how long a forced Delete waits for QEMU to end.
const deleteKillTimeout = 15 * time.Second

// Files of a container dir, besides the monitor's (request.json, pid,
// exit.json, monitor.log).
const (
	killedFile = "killed" // the signal a Kill sent, for the exit status
	guestFile  = "guest"  // the guest type
)

// qmpPath is short on purpose: unix socket paths are limited to 108 bytes.
func (d *Driver) qmpPath(id string) string {
	sum := sha256.Sum256([]byte(id))
	return filepath.Join(d.layout.Root, "q", hex.EncodeToString(sum[:8])+".sock")
}

// Create validates the bundle's unikernel, builds what its VM boots from
// and starts the container's monitor, which starts QEMU paused.
func (d *Driver) Create(ctx context.Context, req *driver.CreateRequest) (_ *driver.CreateResponse, retErr error) {
	bundle, spec, rootfs, err := d.c.Bundle(req)
	if err != nil {
		return nil, err
	}
	annotations := map[string]string{}
	for k, v := range spec.Annotations {
		annotations[k] = v
	}
	for k, v := range req.Annotations {
		annotations[k] = v
	}
	cfg, err := LoadConfig(annotations, rootfs)
	if err == nil {
		err = cfg.Validate()
	}
	if err == nil && cfg.Monitor() != MonitorQEMU {
		err = MonitorReady(cfg.Monitor(), exec.LookPath)
	}
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	if cfg.Type == GuestLinux && spec.Linux != nil && spec.Linux.Seccomp != nil {
		return nil, driver.NotImplementedf("create %s: the unikernel driver's linux guest does not enforce seccomp profiles; remove linux.seccomp from the spec (the program is alone in its VM)", req.ID)
	}
	netns, err := checkNetwork(req.ID, spec)
	if err != nil {
		return nil, err
	}
	a := findAssets(d.exe)
	if a.qemu == "" {
		return nil, driver.FailedPreconditionf("create %s: qemu-system-x86_64 not found: install QEMU (make deps)", req.ID)
	}
	dir, err := d.c.NewDir(req.ID, "")
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			d.destroy(req.ID)
		}
	}()
	if err := os.MkdirAll(filepath.Dir(d.qmpPath(req.ID)), 0o700); err != nil {
		return nil, err
	}
	// A unikernel needs no TSC rate (that is for Linux's clock
	// calibration, measured in ~60 ms) and no probe: TCG unless told.
	accel := vmm.AccelAnswer{Accel: "tcg"}
	if cfg.Type == GuestLinux {
		accel = d.accel(a)
	} else if v := os.Getenv(AccelEnv); v == "kvm" {
		accel.Accel = v
	}
	m, err := prepare(ctx, a, dir, bundle, rootfs, cfg, spec, accel, d.qmpPath(req.ID))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	if err := os.WriteFile(filepath.Join(dir, guestFile), []byte(cfg.Type), 0o600); err != nil {
		return nil, err
	}
	backend, err := json.Marshal(backendRequest{QEMU: a.qemu, Args: m.args(), Stderr: m.stderr, Netns: netns, Drain: m.drain})
	if err != nil {
		return nil, err
	}
	r := monitor.Request{
		ID: req.ID, Bundle: bundle, Annotations: req.Annotations, Stdio: monitor.StdioOf(req.Stdio), Backend: backend,
	}
	pid, err := d.c.Launch(ctx, dir, r)
	if err != nil {
		return nil, err
	}
	d.log.Debug("created", "id", req.ID, "guest", cfg.Type, "qemu", pid)
	return &driver.CreateResponse{Pid: uint32(pid)}, nil
}

// destroy removes whatever a container left: QEMU, its monitor, files.
func (d *Driver) destroy(id string) {
	dir := d.layout.ContainerDir(id)
	if rec, err := monitor.ReadPidRecord(dir); err == nil && rec.Alive() {
		vmm.KillGroup(rec.Pid)
		_ = syscall.Kill(rec.Pid, syscall.SIGKILL)
	}
	monitor.RemoveSockets(d.layout, id)
	os.Remove(d.qmpPath(id))
	os.RemoveAll(dir)
}

func (d *Driver) known(op, id string) error { return d.c.Known(op, id) }

// Start continues the paused VM (QMP "cont").
func (d *Driver) Start(ctx context.Context, id string) error {
	undo, err := d.c.MarkStarted(id)
	if err != nil {
		return err
	}
	dir := d.layout.ContainerDir(id)
	alive := func() bool {
		rec, err := monitor.ReadPidRecord(dir)
		return err == nil && rec.Alive()
	}
	if err := qmpCont(ctx, d.qmpPath(id), alive); err != nil {
		if monitor.ReadExit(dir) != nil {
			return driver.FailedPreconditionf("start %s: container is %s, not created", id, driver.StatusStopped)
		}
		undo()
		return fmt.Errorf("start %s: %w", id, err)
	}
	return nil
}

// State reports the container from its dir.
func (d *Driver) State(ctx context.Context, id string) (*driver.State, error) {
	st, rec, err := d.c.Record("state", id)
	if err != nil {
		return nil, err
	}
	dir := d.layout.ContainerDir(id)
	if st.Exit != nil {
		st.Exit = d.exitOf(dir, st.Exit)
		return st, nil
	}
	st.Status = driver.StatusCreated
	if rec == nil || !rec.Alive() {
		// The monitor is writing exit.json, or died: Wait settles it.
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		raw, werr := monitor.Wait(wctx, d.layout, id, "")
		cancel()
		if werr == nil {
			st.Status, st.Exit = driver.StatusStopped, d.exitOf(dir, raw)
			return st, nil
		}
	}
	if d.c.Started(id) {
		st.Status = driver.StatusRunning
	}
	return st, nil
}

// Wait returns the exit status once QEMU has ended.
func (d *Driver) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	if err := d.c.KnownInit("wait", req.ID, req.ExecID); err != nil {
		return nil, err
	}
	raw, err := monitor.Wait(ctx, d.layout, req.ID, "")
	if err != nil {
		return nil, err
	}
	return d.exitOf(d.layout.ContainerDir(req.ID), raw), nil
}

// Kill signals QEMU, the container's process: any signal that ends it stops
// the VM (SIGTERM and SIGINT make QEMU shut the VM down, SIGKILL kills it).
// The guest program does not see the signal; the exit status reports it.
func (d *Driver) Kill(ctx context.Context, req *driver.KillRequest) error {
	if err := d.c.KillInit(req); err != nil {
		return err
	}
	dir := d.layout.ContainerDir(req.ID)
	if monitor.ReadExit(dir) != nil {
		return driver.FailedPreconditionf("kill %s: container is %s", req.ID, driver.StatusStopped)
	}
	if err := os.WriteFile(filepath.Join(dir, killedFile), []byte(fmt.Sprint(req.Signal)), 0o600); err != nil {
		return fmt.Errorf("kill %s: %w", req.ID, err)
	}
	err := monitor.Signal(ctx, d.layout, req.ID, "", syscall.Signal(req.Signal))
	if errors.Is(err, monitor.ErrGone) {
		return driver.FailedPreconditionf("kill %s: container is %s", req.ID, driver.StatusStopped)
	}
	return err
}

// Delete removes a stopped container; Force kills a running one first.
func (d *Driver) Delete(ctx context.Context, req *driver.DeleteRequest) (*driver.ExitStatus, error) {
	if err := d.known("delete", req.ID); err != nil {
		return nil, err
	}
	dir := d.layout.ContainerDir(req.ID)
	raw := monitor.ReadExit(dir)
	if raw == nil {
		st, err := d.State(ctx, req.ID)
		if err != nil {
			return nil, err
		}
		if st.Exit != nil {
			raw = st.Exit
		} else {
			if !req.Force {
				return nil, driver.FailedPreconditionf("delete %s: container is %s; kill it first or force", req.ID, st.Status)
			}
			_ = os.WriteFile(filepath.Join(dir, killedFile), []byte(fmt.Sprint(int(syscall.SIGKILL))), 0o600)
			if rec, err := monitor.ReadPidRecord(dir); err == nil && rec.Alive() {
				vmm.KillGroup(rec.Pid)
			}
			wctx, cancel := context.WithTimeout(ctx, deleteKillTimeout)
			r, err := monitor.Wait(wctx, d.layout, req.ID, "")
			cancel()
			if err != nil {
				return nil, driver.Unavailablef("delete %s: qemu did not end: %v", req.ID, err)
			}
			raw = d.exitOf(dir, r)
		}
	} else {
		raw = d.exitOf(dir, raw)
	}
	d.destroy(req.ID)
	return raw, nil
}

// List returns the state of every container the driver knows.
func (d *Driver) List(ctx context.Context) ([]*driver.State, error) {
	return d.c.List(ctx, d.State)
}
