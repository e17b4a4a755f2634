//go:build linux

package skeleton

import (
	"context"
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
	"github.com/rtd-project/rtd/kit/monitor"
	"github.com/rtd-project/rtd/kit/ocicli"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// Driver runs containers with runc, one kit/monitor per container. It
// keeps nothing in memory: the monitors' records in the state directory
// are the truth, so a new driver process finds every container.
type Driver struct {
	driver.Unimplemented
	c   *monitor.Containers
	rt  *ocicli.Runtime
	log hclog.Logger
}

// Reexec runs the binary as a container's monitor (kit/monitor, with
// kit/ocicli's backend, which runs `runc create`) and exits when it was
// started as one. A driver's main calls it first.
func Reexec() { ocicli.Reexec() }

// New returns the driver keeping its state in stateDir.
func New(stateDir string, log hclog.Logger) *Driver {
	rt := &ocicli.Runtime{Name: "runc", Binary: "runc", Root: filepath.Join(stateDir, "runc"), LogDir: filepath.Join(stateDir, "logs")}
	if path, err := exec.LookPath("runc"); err == nil {
		rt.Binary = path
	}
	exe, err := os.Executable() // re-executed as the monitor (Reexec)
	if err != nil {
		exe = "/proc/self/exe"
	}
	c := &monitor.Containers{Layout: monitor.Layout{Root: stateDir}, Exe: exe, Name: "skeleton"}
	return &Driver{c: c, rt: rt, log: log}
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
	bundle, spec, rootfs, err := d.c.Bundle(req)
	if err != nil {
		return nil, err
	}
	if _, err := ocispec.FindExecutable(rootfs, spec.Process); err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err) // runc says so only on the container's stderr
	}
	if req.Stdio.Terminal || spec.Process.Terminal {
		return nil, driver.NotImplementedf("create %s: terminals are not supported", req.ID)
	}
	dir, err := d.c.NewDir(req.ID, "")
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = d.rt.Delete(ctx, req.ID, true)
			_ = d.c.Remove(ctx, req.ID) // waits for the monitor that failed to exit
		}
	}()
	r, err := d.rt.Request(req.ID, bundle) // kit/ocicli's monitor backend runs `runc create`
	if err != nil {
		return nil, err
	}
	r.Annotations, r.Stdio = req.Annotations, monitor.StdioOf(req.Stdio)
	pid, err := d.c.Launch(ctx, dir, r)
	if err != nil {
		return nil, err
	}
	return &driver.CreateResponse{Pid: uint32(pid)}, nil
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

// State combines the monitor's records with runc's state.
func (d *Driver) State(ctx context.Context, id string) (*driver.State, error) {
	st, rec, err := d.c.Record("state", id)
	if err != nil {
		return nil, err
	}
	if st.Exit == nil && rec != nil {
		st.Exit = monitor.Check(ctx, d.c.Layout, id, "") // a dead monitor's workload is killed
	}
	if st.Exit != nil {
		st.Status = driver.StatusStopped
		return st, nil
	}
	c, err := d.rt.State(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", id, err)
	}
	if c.Status == "stopped" { // the monitor is writing exit.json
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		st.Status = driver.StatusStopped
		st.Exit, err = monitor.Wait(wctx, d.c.Layout, id, "")
		return st, err
	}
	st.Status = driver.Status(c.Status)
	return st, nil
}

// Wait returns the exit status the monitor records: it survives driver
// restarts, as the contract demands.
func (d *Driver) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	return d.c.Wait(ctx, req)
}

// Kill signals the container's init (or all its processes).
func (d *Driver) Kill(ctx context.Context, req *driver.KillRequest) error {
	if err := monitor.CheckSignal(req); err != nil {
		return err
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
	unlock, err := d.c.LockForDelete(ctx, req.ID, 10*time.Second) // a monitor may be starting
	if err != nil {
		return nil, err
	}
	defer unlock()
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
		if st.Exit, err = monitor.Wait(ctx, d.c.Layout, req.ID, ""); err != nil {
			return nil, err
		}
	}
	if err := d.rt.Delete(ctx, req.ID, true); err != nil && !errors.Is(err, os.ErrNotExist) {
		d.log.Debug("runc delete", "id", req.ID, "error", err)
	}
	_ = os.Remove(filepath.Join(d.rt.LogDir, req.ID+".log"))
	return st.Exit, d.c.Remove(ctx, req.ID)
}

// List returns the state of every container.
func (d *Driver) List(ctx context.Context) ([]*driver.State, error) {
	return d.c.List(ctx, d.State)
}

var _ driver.Driver = (*Driver)(nil)
