package linux

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	lc "github.com/opencontainers/runc/libcontainer"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/linux/lcmon"
	"github.com/rtd-project/rtd/internal/monitor"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// Create starts a monitor that creates the container; the workload waits
// for Start.
func (d *Driver) Create(ctx context.Context, req *driver.CreateRequest) (_ *driver.CreateResponse, retErr error) {
	if err := monitor.ValidateID("container id", req.ID); err != nil {
		return nil, err
	}
	if len(req.Rootfs) > 0 {
		return nil, driver.InvalidArgumentf("create %s: rootfs mounts are not supported by the linux driver; give a bundle whose root.path is a directory", req.ID)
	}
	bundle, err := filepath.Abs(req.Bundle)
	if err != nil {
		return nil, driver.InvalidArgumentf("create %s: bundle %q: %v", req.ID, req.Bundle, err)
	}
	spec, err := ocispec.Load(bundle)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	rootfs := ocispec.RootfsPath(bundle, spec)
	if fi, err := os.Stat(rootfs); err != nil || !fi.IsDir() {
		return nil, driver.InvalidArgumentf("create %s: rootfs %s: not a directory", req.ID, rootfs)
	}
	if msg := ocispec.CheckRootfs(rootfs); msg != "" {
		return nil, driver.InvalidArgumentf("create %s: %s", req.ID, msg)
	}
	if err := os.MkdirAll(d.layout.ContainersDir(), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	dir := d.layout.ContainerDir(req.ID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if os.IsExist(err) {
			return nil, driver.AlreadyExistsf("create %s: a container with this id already exists", req.ID)
		}
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	defer func() {
		if retErr != nil {
			if c, err := lc.Load(lcmon.Root(d.layout), req.ID); err == nil {
				_ = c.Signal(syscall.SIGKILL)
				_ = c.Destroy()
			}
			os.RemoveAll(dir)
		}
	}()
	unlock := d.events.Lock(req.ID, "")
	defer unlock()
	r := monitor.Request{
		ID: req.ID, Bundle: bundle, Annotations: req.Annotations, Stdio: monitor.StdioOf(req.Stdio),
		CreatedAt: time.Now().UnixNano(),
	}
	if err := monitor.WriteJSONAtomic(filepath.Join(dir, "request.json"), r); err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	pid, err := monitor.Spawn(d.exe, d.layout, dir)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	if err := d.events.Record(driver.Event{Type: driver.EventCreate, ID: req.ID, Pid: uint32(pid)}); err != nil {
		return nil, err
	}
	d.log.Debug("created", "id", req.ID, "pid", pid)
	return &driver.CreateResponse{Pid: uint32(pid)}, nil
}

// lcError maps libcontainer errors to errdefs classes.
func lcError(op, id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, lc.ErrNotExist):
		return driver.NotFoundf("%s %s: no such container", op, id)
	case errors.Is(err, lc.ErrNotRunning):
		return driver.FailedPreconditionf("%s %s: container is not running", op, id)
	case errors.Is(err, lc.ErrRunning):
		return driver.FailedPreconditionf("%s %s: container is running", op, id)
	case errors.Is(err, lc.ErrPaused):
		return driver.FailedPreconditionf("%s %s: container is paused", op, id)
	case errors.Is(err, lc.ErrNotPaused):
		return driver.FailedPreconditionf("%s %s: container is not paused", op, id)
	}
	return fmt.Errorf("%s %s: %w", op, id, err)
}
