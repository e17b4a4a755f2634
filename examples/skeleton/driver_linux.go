//go:build linux

package skeleton

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/ocicli"
	"github.com/rtd-project/rtd/kit/ocispec"
	"github.com/rtd-project/rtd/kit/statestore"
)

// Driver runs containers with runc.
type Driver struct {
	driver.Unimplemented
	store statestore.Store
	rt    *ocicli.Runtime
	log   hclog.Logger
}

// record is what the driver keeps per container (statestore).
type record struct {
	Bundle      string
	Stdio       driver.Stdio
	Annotations map[string]string `json:",omitempty"`
	CreatedAt   time.Time
	Pid         int
}

// New returns the driver keeping its state in stateDir.
func New(stateDir string, log hclog.Logger) *Driver {
	rt := &ocicli.Runtime{Name: "runc", Binary: "runc", Root: filepath.Join(stateDir, "runc"), LogDir: filepath.Join(stateDir, "logs")}
	if path, err := exec.LookPath("runc"); err == nil {
		rt.Binary = path
	}
	return &Driver{store: statestore.Store{Root: stateDir}, rt: rt, log: log}
}

// Info describes the driver; health is probed now.
func (d *Driver) Info(ctx context.Context) (*driver.Info, error) {
	health := driver.Health{Ready: true}
	if v, err := d.rt.Version(ctx); err != nil {
		health = driver.Health{Reason: fmt.Sprintf("runc does not run (%v): install runc", err)}
	} else if os.Geteuid() != 0 {
		health = driver.Health{Reason: "must run as root: runc needs root to create containers"}
	} else {
		d.log.Debug("runc", "version", v)
	}
	return &driver.Info{
		Name: "skeleton", Version: "0.1", ContractVersion: driver.ContractVersion,
		OS: runtime.GOOS, Arch: runtime.GOARCH, Health: health,
		Isolation: isolation,
	}, nil
}

// Create checks the bundle, reserves the id and starts the container's
// monitor, which runs `runc create`.
func (d *Driver) Create(ctx context.Context, req *driver.CreateRequest) (_ *driver.CreateResponse, retErr error) {
	spec, err := ocispec.Load(req.Bundle)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	rootfs := ocispec.RootfsPath(req.Bundle, spec)
	if fi, err := os.Stat(rootfs); err != nil || !fi.IsDir() {
		return nil, driver.InvalidArgumentf("create %s: rootfs %s is not a directory", req.ID, rootfs)
	}
	if msg := ocispec.CheckRootfs(rootfs); msg != "" {
		return nil, driver.InvalidArgumentf("create %s: %s", req.ID, msg)
	}
	if _, err := ocispec.FindExecutable(rootfs, spec.Process); err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err) // runc says so only on the container's stderr
	}
	if req.Stdio.Terminal || spec.Process.Terminal || len(req.Rootfs) > 0 {
		return nil, driver.NotImplementedf("create %s: terminals and rootfs mounts are not supported", req.ID)
	}
	rec := &record{Bundle: req.Bundle, Stdio: req.Stdio, Annotations: req.Annotations, CreatedAt: time.Now()}
	if err := d.store.Create(req.ID, rec); err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			_ = d.rt.Delete(context.WithoutCancel(ctx), req.ID, true)
			_ = d.store.Remove(req.ID)
		}
	}()
	pid, err := spawnMonitor(d.rt, d.store.Root, req.ID, rec)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	rec.Pid = pid
	return &driver.CreateResponse{Pid: uint32(pid)}, d.store.Save(req.ID, rec)
}

// Start runs the created workload.
func (d *Driver) Start(ctx context.Context, id string) error {
	st, err := d.State(ctx, id)
	if err != nil {
		return err
	}
	if st.Status != driver.StatusCreated {
		return driver.FailedPreconditionf("start %s: container is %s, not created", id, st.Status)
	}
	return d.rt.Start(ctx, id)
}

// State combines the record, the recorded exit and runc's state.
func (d *Driver) State(ctx context.Context, id string) (*driver.State, error) {
	var rec record
	if err := d.store.Load("state", id, &rec); err != nil {
		return nil, err
	}
	st := &driver.State{ID: id, Bundle: rec.Bundle, Pid: uint32(rec.Pid), Annotations: rec.Annotations, CreatedAt: rec.CreatedAt, Status: driver.StatusStopped}
	if exit, ok := d.store.Exit(id); ok {
		st.Exit = exit
		return st, nil
	}
	c, err := d.rt.State(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", id, err)
	}
	if c.Status == "stopped" { // the monitor is writing exit.json
		exit, err := d.wait(ctx, id, time.Second)
		st.Exit = exit
		return st, err
	}
	st.Status = driver.Status(c.Status)
	return st, nil
}

// Wait polls for the exit status the monitor records: it survives driver
// restarts, as the contract demands.
func (d *Driver) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	if _, err := d.State(ctx, req.ID); err != nil {
		return nil, err
	}
	return d.wait(ctx, req.ID, 0)
}

func (d *Driver) wait(ctx context.Context, id string, limit time.Duration) (*driver.ExitStatus, error) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for start := time.Now(); ; {
		if exit, ok := d.store.Exit(id); ok {
			return exit, nil
		}
		if limit > 0 && time.Since(start) > limit {
			return nil, driver.Unavailablef("wait %s: runc says stopped, but no exit status was recorded", id)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait %s: %w", id, ctx.Err())
		case <-tick.C:
		}
	}
}

// Kill signals the container's init (or all its processes).
func (d *Driver) Kill(ctx context.Context, req *driver.KillRequest) error {
	if req.Signal <= 0 || req.Signal > 64 {
		return driver.InvalidArgumentf("kill %s: invalid signal %d", req.ID, req.Signal)
	}
	st, err := d.State(ctx, req.ID)
	if err != nil {
		return err
	}
	if st.Status == driver.StatusStopped {
		return driver.FailedPreconditionf("kill %s: container has stopped", req.ID)
	}
	return d.rt.Kill(ctx, req.ID, int(req.Signal), req.All)
}

// Delete removes a stopped container (force: kills it first) and returns
// its exit status.
func (d *Driver) Delete(ctx context.Context, req *driver.DeleteRequest) (*driver.ExitStatus, error) {
	st, err := d.State(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if st.Status != driver.StatusStopped {
		if !req.Force {
			return nil, driver.FailedPreconditionf("delete %s: container is %s: stop it or force", req.ID, st.Status)
		}
		if err := d.rt.Kill(ctx, req.ID, int(syscall.SIGKILL), true); err != nil {
			return nil, fmt.Errorf("delete %s: %w", req.ID, err)
		}
		if st.Exit, err = d.wait(ctx, req.ID, 0); err != nil {
			return nil, err
		}
	}
	if err := d.rt.Delete(ctx, req.ID, true); err != nil && !errors.Is(err, os.ErrNotExist) {
		d.log.Debug("runc delete", "id", req.ID, "error", err)
	}
	_ = os.Remove(filepath.Join(d.rt.LogDir, req.ID+".log"))
	return st.Exit, d.store.Remove(req.ID)
}

// List returns the state of every recorded container.
func (d *Driver) List(ctx context.Context) ([]*driver.State, error) {
	ids, err := d.store.IDs()
	if err != nil {
		return nil, err
	}
	var out []*driver.State
	for _, id := range ids {
		if st, err := d.State(ctx, id); err == nil {
			out = append(out, st)
		}
	}
	return out, nil
}

var _ driver.Driver = (*Driver)(nil)

func encodeJSON(v any) []byte { b, _ := json.Marshal(v); return b }
