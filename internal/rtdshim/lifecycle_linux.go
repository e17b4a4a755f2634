//go:build linux

package rtdshim

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	eventstypes "github.com/containerd/containerd/api/events"
	taskAPI "github.com/containerd/containerd/api/runtime/task/v3"
	"github.com/containerd/containerd/v2/core/mount"
	"github.com/containerd/containerd/v2/pkg/protobuf"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// cleanupTimeout bounds the rollback of a failed create.
const cleanupTimeout = 30 * time.Second

// Create picks the driver from the runtime options, mounts containerd's
// rootfs mounts on the bundle's rootfs directory (every rtd driver takes a
// directory) and creates the container on the driver. A failure leaves
// nothing behind: no mount, no record, nothing on the driver.
func (s *service) Create(ctx context.Context, r *taskAPI.CreateTaskRequest) (_ *taskAPI.CreateTaskResponse, retErr error) {
	defer func() { retErr = toGRPC(retErr) }()
	if r.Checkpoint != "" {
		return nil, driver.NotImplementedf("create %s: restore from a checkpoint is not supported by the rtd shim", r.ID)
	}
	s.mu.Lock()
	_, dup := s.containers[r.ID]
	s.mu.Unlock()
	if dup {
		return nil, driver.AlreadyExistsf("create %s: container", r.ID)
	}
	opts, err := OptionsFromAny(r.Options)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", r.ID, err)
	}
	d, info, err := s.driverFor(ctx, r.ID, r.Bundle, withBinaryDriver(opts))
	if err != nil {
		return nil, err
	}
	io, dio, err := stdioOf(r.ID, r.Stdin, r.Stdout, r.Stderr, r.Terminal)
	if err != nil {
		return nil, err
	}
	c := &container{id: r.ID, bundle: r.Bundle, drv: d, caps: info.Capabilities, execs: map[string]*proc{}}
	c.init = newProc(r.ID, "", io)
	if len(r.Rootfs) > 0 {
		c.rootfs = filepath.Join(r.Bundle, "rootfs")
		if err := mount.All(mount.FromProto(r.Rootfs), c.rootfs); err != nil {
			return nil, driver.InvalidArgumentf("create %s: mount the rootfs: %v", r.ID, err)
		}
	}
	rec := bundleRecord{Root: s.root, Driver: d.Name, DriverPath: d.Path, Rootfs: c.rootfs}
	driverCreate := false
	defer func() {
		if retErr != nil {
			s.rollbackCreate(ctx, c, driverCreate)
		}
	}()
	if err := writeBundleRecord(r.Bundle, rec); err != nil {
		return nil, fmt.Errorf("create %s: %w", r.ID, err)
	}
	annotations, err := specAnnotations(r.Bundle)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", r.ID, err)
	}
	sandboxID, owns, err := s.podSandbox(ctx, d, info, opts, r.ID, r.Bundle, annotations)
	if err != nil {
		return nil, err
	}
	if owns {
		c.sandbox, rec.Sandbox = sandboxID, sandboxID
		if err := writeBundleRecord(r.Bundle, rec); err != nil {
			return nil, fmt.Errorf("create %s: %w", r.ID, err)
		}
	}
	driverCreate = true
	resp, err := d.Create(ctx, &driver.CreateRequest{ID: r.ID, Bundle: r.Bundle, Stdio: dio, Annotations: annotations, SandboxID: sandboxID})
	if err != nil {
		return nil, fmt.Errorf("create %s on driver %q: %w", r.ID, d.Name, err)
	}
	c.init.pid = resp.Pid
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	s.mu.Lock()
	s.containers[r.ID] = c
	watch := info.Capabilities.Events && !s.watching[d]
	if watch {
		s.watching[d] = true
	}
	s.mu.Unlock()
	s.ev.send(&eventstypes.TaskCreate{
		ContainerID: r.ID, Bundle: r.Bundle, Rootfs: r.Rootfs, Checkpoint: r.Checkpoint, Pid: resp.Pid,
		IO: &eventstypes.TaskIO{Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr, Terminal: r.Terminal},
	})
	if watch {
		go s.watchEvents(d)
	}
	// Wait is the exit's source in every case: a driver's event stream
	// (followed as well when claimed) may start after a fast exit.
	go s.watchExit(c, c.init)
	return &taskAPI.CreateTaskResponse{Pid: resp.Pid}, nil
}

// rollbackCreate undoes a failed Create of c: the container on the driver
// (when its Create was called), the sandbox c made, the rootfs mount, the
// bundle record.
func (s *service) rollbackCreate(ctx context.Context, c *container, driverCreate bool) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if driverCreate {
		if _, err := c.drv.Delete(cctx, &driver.DeleteRequest{ID: c.id, Force: true}); err != nil && !errdefs.IsNotFound(err) {
			log.G(ctx).WithError(err).WithField("id", c.id).Warn("rollback: delete on the driver")
		}
	}
	if c.sandbox != "" {
		s.shutdownSandbox(cctx, c.drv, c.sandbox)
	}
	unmountRootfs(ctx, c.rootfs)
	removeBundleRecord(c.bundle)
}

// pickDriver selects the driver through the core and checks that it is
// ready here: a driver that is not gives its health reason.
func (s *service) pickDriver(ctx context.Context, id, bundle string, opts *Options) (*core.Plugin, *driver.Info, error) {
	annotations, err := specAnnotations(bundle)
	if err != nil {
		return nil, nil, fmt.Errorf("create %s: %w", id, err)
	}
	return s.selectDriver(ctx, "create "+id, opts, annotations)
}

// selectDriver is pickDriver for op, with the labels policies match on
// (a container's annotations, a pod's).
func (s *service) selectDriver(ctx context.Context, op string, opts *Options, annotations map[string]string) (*core.Plugin, *driver.Info, error) {
	sel, err := opts.selection(annotations)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	cr := s.core
	if len(opts.DriverPath) > 0 {
		cr = s.coreWithPath(opts.DriverPath)
	}
	choice, err := cr.SelectDriver(ctx, sel)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	d, err := cr.Driver(ctx, choice.Binary.Path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	info, err := d.Info(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: driver %q: %w", op, d.Name, err)
	}
	if !info.Health.Ready {
		return nil, nil, driver.FailedPreconditionf("%s: driver %q is not ready on this host: %s", op, d.Name, info.Health.Reason)
	}
	return d, info, nil
}

// Start starts the init process or an exec.
func (s *service) Start(ctx context.Context, r *taskAPI.StartRequest) (*taskAPI.StartResponse, error) {
	c, p, err := s.process(r.ID, r.ExecID)
	if err != nil {
		return nil, err
	}
	if r.ExecID != "" {
		return s.startExec(ctx, c, p)
	}
	if err := c.drv.Start(ctx, c.id); err != nil {
		return nil, toGRPC(fmt.Errorf("start %s: %w", c.id, err))
	}
	p.setStarted(0)
	pid := p.getPid()
	s.ev.send(&eventstypes.TaskStart{ContainerID: c.id, Pid: pid})
	return &taskAPI.StartResponse{Pid: pid}, nil
}

// Delete removes an exec, or the container: on the driver, its rootfs
// mount and its bundle record. It answers the exit status.
func (s *service) Delete(ctx context.Context, r *taskAPI.DeleteRequest) (*taskAPI.DeleteResponse, error) {
	c, p, err := s.process(r.ID, r.ExecID)
	if err != nil {
		return nil, err
	}
	if r.ExecID != "" {
		st := p.exitStatus()
		if st == nil && p.isStarted() {
			return nil, toGRPC(driver.FailedPreconditionf("delete exec %s of %s: the process is running", r.ExecID, r.ID))
		}
		if st == nil {
			st = &driver.ExitStatus{ExitedAt: time.Now()}
		}
		c.mu.Lock()
		delete(c.execs, r.ExecID)
		c.mu.Unlock()
		return &taskAPI.DeleteResponse{Pid: p.getPid(), ExitStatus: st.Code, ExitedAt: protobuf.ToTimestamp(st.ExitedAt)}, nil
	}
	force := !p.isStarted()
	st, err := c.drv.Delete(ctx, &driver.DeleteRequest{ID: c.id, Force: force})
	if err != nil && !errdefs.IsNotFound(err) {
		return nil, toGRPC(fmt.Errorf("delete %s: %w", c.id, err))
	}
	if st == nil {
		st = &driver.ExitStatus{Code: 255, ExitedAt: time.Now(), Reason: "gone from the driver"}
	}
	// A process gone without a published exit gets it now, before
	// TaskDelete, and only once.
	s.exited(c, c.init, st)
	if pub := p.exitStatus(); pub != nil {
		st = pub
	} else {
		// held back for execs that cannot run any more
		s.publishExit(c, c.init, st)
	}
	c.cancel()
	if c.sandbox != "" {
		s.shutdownSandbox(ctx, c.drv, c.sandbox)
	}
	unmountRootfs(ctx, c.rootfs)
	removeBundleRecord(c.bundle)
	s.mu.Lock()
	delete(s.containers, c.id)
	s.mu.Unlock()
	s.publishDelete(c, st)
	return &taskAPI.DeleteResponse{Pid: c.init.getPid(), ExitStatus: st.Code, ExitedAt: protobuf.ToTimestamp(st.ExitedAt)}, nil
}

// Checkpoint is not supported.
func (s *service) Checkpoint(ctx context.Context, r *taskAPI.CheckpointTaskRequest) (*emptypb.Empty, error) {
	return nil, toGRPC(driver.NotImplementedf("checkpoint %s: not supported by the rtd shim", r.ID))
}

// unmountRootfs undoes the rootfs mount of Create ("" for none).
func unmountRootfs(ctx context.Context, rootfs string) {
	if rootfs == "" {
		return
	}
	if err := mount.UnmountRecursive(rootfs, 0); err != nil {
		log.G(ctx).WithError(err).WithField("rootfs", rootfs).Warn("unmount rootfs")
	}
}
