package core

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/logfile"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// DefaultDriver is the driver used when none is named.
const DefaultDriver = "linux"

// LogFile is the name of a detached container's output file in its record
// directory: stdout and stderr as timestamped records (kit/logfile).
const LogFile = "container.log"

// cleanupTimeout bounds the rollback of a failed create and similar cleanup,
// which runs even when the caller's context is done.
const cleanupTimeout = 30 * time.Second

// CreateOptions describe a container to create.
type CreateOptions struct {
	// ID is the container id; "" generates one (NewID).
	ID string
	// Driver is a driver name or path; "" lets Isolation and the policy
	// choose (SelectDriver).
	Driver string
	// Isolation is the minimum isolation class asked for; "" for none.
	Isolation driver.IsolationClass
	// Policy constrains the choice; nil allows everything.
	Policy *Policy
	// Image is "hello", an OCI bundle directory or a root filesystem directory.
	Image string
	Spec  SpecOptions
	// Detached sends stdout and stderr to LogFile in the record directory;
	// otherwise they are FIFOs (stdout, stderr) in the record directory for
	// the caller to read.
	Detached bool
	// Stdin adds a stdin FIFO for an attached container.
	Stdin bool
	// AutoRemove is recorded for the caller to remove the container once it
	// has stopped.
	AutoRemove bool
	// Network is --network and -p.
	Network NetworkOptions
	// StopSignal and StopTimeout are recorded for stop (docker's
	// --stop-signal, --stop-timeout); empty and nil mean SIGTERM and 10s.
	StopSignal  string
	StopTimeout *time.Duration
	// Pod is the pod to create the container in (rtd run --pod): on the
	// pod's driver, in its sandbox, sharing its network.
	Pod string
	// Log selects the labels and environment variables the log keeps as
	// its attributes (--log-opt; rtd logs --details prints them).
	Log LogOptions
}

// Container is a created container: its record, its driver and the host
// paths of its stdio.
type Container struct {
	Record *Record
	Dir    string
	Driver *Plugin
	Stdio  driver.Stdio
	Pid    uint32
}

// createID returns the id of the container opts asks for (a new one when
// unset) and the pod it joins (nil for none; opts is adapted to the pod).
func (c *Core) createID(opts *CreateOptions) (string, *Pod, error) {
	id := opts.ID
	if id == "" {
		id = NewID()
	}
	if err := ValidateID(id); err != nil {
		return "", nil, err
	}
	if opts.Pod == "" {
		return id, nil, nil
	}
	pod, err := c.joinPod(id, opts.Pod, opts)
	if err != nil {
		return "", nil, err
	}
	return id, pod, nil
}

// Create creates a container (without starting it): it checks everything
// it can before touching the disk, then writes the record and the bundle,
// makes the stdio paths and asks the driver to create it. When a step
// fails, everything done so far is undone, on the driver side as well.
func (c *Core) Create(ctx context.Context, opts CreateOptions) (_ *Container, retErr error) {
	id, pod, err := c.createID(&opts)
	if err != nil {
		return nil, err
	}
	img, err := c.Resolve(ctx, opts.Image)
	if err != nil {
		return nil, err
	}
	dir := c.ContainerDir(id)
	bundleDir := filepath.Join(dir, "bundle")
	spec, err := BuildSpec(img, id, bundleDir, opts.Spec)
	if err != nil {
		return nil, err
	}
	if err := opts.Policy.CheckHooks(spec, opts.Spec.Labels); err != nil {
		return nil, err
	}
	if len(opts.Spec.Mounts) > 0 {
		user, volumes, err := c.resolveMounts(opts.Spec.Mounts)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", id, err)
		}
		defer func() {
			if retErr != nil {
				c.removeCreatedVolumes(volumes)
			}
		}()
		spec.Mounts = replaceMounts(spec.Mounts, user)
	}
	if spec.Linux != nil && spec.Linux.CgroupsPath == "" {
		// Per root: the same id in another root is another container.
		spec.Linux.CgroupsPath = ocispec.CgroupsPath(c.root, id)
	}
	choice, err := c.selectFor(ctx, opts, img, spec)
	if err != nil {
		return nil, err
	}
	bin := choice.Binary
	d := c.driverFor(bin)
	plan, err := c.planNetwork(ctx, id, opts.Network, img, d)
	if err != nil {
		return nil, err
	}
	plan.applyNetwork(spec, dir)
	c.applyPod(spec, pod)
	rec := newRecord(id, bundleDir, opts, choice, spec, img)
	rec.Pod = opts.Pod
	// A container of this id whose creator died half-way is removed first,
	// so that its name can be used again.
	c.ReclaimAbandoned(ctx)
	if err := c.CreateRecord(rec); err != nil {
		return nil, err
	}
	defer c.FinishCreating(id)
	driverCreate := false
	defer func() {
		if retErr != nil {
			c.rollbackCreate(ctx, d, id, driverCreate)
		}
	}()
	if err := settleSeccomp(ctx, d, choice.Class, spec, opts.Spec.Security, img.Kind != KindBundle); err != nil {
		return nil, err
	}
	stdio, err := c.prepareFiles(ctx, img, spec, rec, choice, plan, opts)
	if err != nil {
		return nil, err
	}
	// Launch first: a driver that does not start has created nothing.
	if _, err := d.Process(ctx); err != nil {
		return nil, err
	}
	driverCreate = true
	resp, err := d.Create(ctx, &driver.CreateRequest{
		ID:          id,
		Bundle:      bundleDir,
		Stdio:       stdio,
		Annotations: spec.Annotations,
		SandboxID:   opts.Pod,
	})
	if err != nil {
		return nil, err
	}
	return &Container{Record: rec, Dir: dir, Driver: d, Stdio: stdio, Pid: resp.Pid}, nil
}

// prepareFiles makes what the driver reads on the host: the root
// (a snapshot of the image), the network, the bundle, the stdio paths and
// the completed record.
func (c *Core) prepareFiles(ctx context.Context, img *Image, spec *specs.Spec, rec *Record, choice *Choice, plan *netPlan, opts CreateOptions) (driver.Stdio, error) {
	dir := filepath.Dir(rec.Bundle)
	if err := c.prepareRoot(ctx, img, spec, dir, choice); err != nil {
		return driver.Stdio{}, fmt.Errorf("create %s: %w", rec.ID, err)
	}
	if err := c.attachNetwork(ctx, rec, dir, plan, spec.Hostname); err != nil {
		return driver.Stdio{}, err
	}
	if err := WriteBundle(rec.Bundle, img, spec); err != nil {
		return driver.Stdio{}, fmt.Errorf("create %s: %w", rec.ID, err)
	}
	stdio, err := createStdio(rec, dir, opts)
	if err != nil {
		return driver.Stdio{}, err
	}
	if err := c.WriteRecord(rec); err != nil {
		return driver.Stdio{}, err
	}
	return stdio, nil
}

// selectFor picks the driver for a new container: the options' driver,
// isolation and policy, with the image's own kind (wasm, urunc's
// unikernel annotations) when the user named neither.
func (c *Core) selectFor(ctx context.Context, opts CreateOptions, img *Image, spec *specs.Spec) (*Choice, error) {
	sel := Selection{
		Driver: opts.Driver, Isolation: opts.Isolation, Labels: opts.Spec.Labels, Policy: opts.Policy,
		Wasm: img.Kind != KindHello && (img.Wasm() || WasmWorkload(spec)),
	}
	if img.Unikernel() && sel.Driver == "" && sel.Isolation == "" {
		// An image declaring a unikernel (urunc's annotations) goes to a
		// unikernel driver.
		sel.Isolation = driver.IsolationUnikernel
	}
	return c.SelectDriver(ctx, sel)
}

// newRecord is the record of a container being created.
func newRecord(id, bundleDir string, opts CreateOptions, choice *Choice, spec *specs.Spec, img *Image) *Record {
	rec := &Record{
		ID:          id,
		Name:        opts.ID,
		Driver:      choice.Binary.Name,
		DriverPath:  choice.Binary.Path,
		Isolation:   string(choice.Class),
		Selected:    choice.Reason,
		Bundle:      bundleDir,
		Image:       opts.Image,
		Command:     spec.Process.Args,
		Created:     time.Now().UTC(),
		Labels:      opts.Spec.Labels,
		Detached:    opts.Detached,
		Terminal:    spec.Process.Terminal,
		AutoRemove:  opts.AutoRemove,
		StopSignal:  opts.StopSignal,
		StopTimeout: opts.StopTimeout,
	}
	if spec.Process != nil {
		rec.LogAttrs = opts.Log.attrs(opts.Spec.Labels, spec.Process.Env)
	}
	if img.Stored != nil {
		rec.ImageDigest = img.Stored.Digest.String()
		rec.Snapshot = spec.Annotations[AnnotSnapshot]
	}
	return rec
}

// rollbackCreate undoes a Create that failed: the container on the driver
// (when the driver was asked to create it) and the record.
func (c *Core) rollbackCreate(ctx context.Context, d *Plugin, id string, onDriver bool) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if onDriver {
		if _, err := d.Delete(cctx, &driver.DeleteRequest{ID: id, Force: true}); err != nil && !errdefs.IsNotFound(err) {
			c.logger.Warn("rollback: delete on the driver failed", "id", id, "driver", d.Name, "error", err)
		}
	}
	if err := c.detachNetwork(cctx, id); err != nil {
		c.logger.Warn("rollback: detach the network failed", "id", id, "error", err)
	}
	if err := c.RemoveRecord(id); err != nil {
		c.logger.Warn("rollback: remove record failed", "id", id, "error", err)
	}
}

// createStdio makes the stdio of a new container in dir: a detached one
// writes to its log file (rec.LogPath, set here), an attached one gets
// FIFOs.
func createStdio(rec *Record, dir string, opts CreateOptions) (driver.Stdio, error) {
	if !opts.Detached {
		stdio, err := makeStdio(dir, "", opts.Stdin, rec.Terminal)
		if err != nil {
			return driver.Stdio{}, fmt.Errorf("create %s: %w", rec.ID, err)
		}
		return stdio, nil
	}
	rec.LogPath = filepath.Join(dir, LogFile)
	if err := logfile.Create(rec.LogPath); err != nil {
		return driver.Stdio{}, fmt.Errorf("create %s: log file: %w", rec.ID, err)
	}
	return driver.Stdio{Stdout: rec.LogPath, Stderr: rec.LogPath, Terminal: rec.Terminal}, nil
}

// makeStdio creates the FIFOs of an attached process in dir: <prefix>stdout,
// <prefix>stderr (not with a terminal) and, with stdin, <prefix>stdin.
func makeStdio(dir, prefix string, stdin, terminal bool) (driver.Stdio, error) {
	s := driver.Stdio{Terminal: terminal}
	fifos := []struct {
		want bool
		path *string
		name string
	}{
		{stdin, &s.Stdin, "stdin"},
		{true, &s.Stdout, "stdout"},
		{!terminal, &s.Stderr, "stderr"},
	}
	for _, f := range fifos {
		if !f.want {
			continue
		}
		p := filepath.Join(dir, prefix+f.name)
		if err := mkfifo(p); err != nil {
			return driver.Stdio{}, fmt.Errorf("make %s fifo: %w", f.name, err)
		}
		*f.path = p
	}
	return s, nil
}

// Start starts a created container.
func (c *Core) Start(ctx context.Context, rec *Record) error {
	d, err := c.DriverOf(rec)
	if err != nil {
		return err
	}
	return d.Start(ctx, rec.ID)
}

// State asks the container's driver for its state.
func (c *Core) State(ctx context.Context, rec *Record) (*driver.State, error) {
	d, err := c.DriverOf(rec)
	if err != nil {
		return nil, err
	}
	return d.State(ctx, rec.ID)
}

// Remove deletes a container on its driver (Force kills it first) and then
// removes its record. A container that was created but never started needs
// no Force, as with docker. A container its driver no longer knows is
// removed too; with Force, so is one whose driver cannot be reached.
func (c *Core) Remove(ctx context.Context, rec *Record, force bool) error {
	return c.remove(ctx, rec, force, rec.AutoRemove)
}

// RemoveWithVolumes is Remove that also removes the container's anonymous
// volumes no other container uses, as docker rm -v (named volumes stay).
func (c *Core) RemoveWithVolumes(ctx context.Context, rec *Record, force bool) error {
	return c.remove(ctx, rec, force, true)
}

func (c *Core) remove(ctx context.Context, rec *Record, force, anonVolumes bool) error {
	d, err := c.DriverOf(rec)
	if err == nil {
		_, err = d.Delete(ctx, &driver.DeleteRequest{ID: rec.ID, Force: force})
		if errdefs.IsFailedPrecondition(err) && !force {
			if st, serr := d.State(ctx, rec.ID); serr == nil && st.Status == driver.StatusCreated {
				_, err = d.Delete(ctx, &driver.DeleteRequest{ID: rec.ID, Force: true})
			}
		}
	}
	switch {
	case err == nil || errdefs.IsNotFound(err):
	case force:
		c.logger.Warn("removing the record although the driver could not delete the container", "id", rec.ID, "error", err)
	case errdefs.IsFailedPrecondition(err):
		return driver.FailedPreconditionf("remove %s: the container is running; kill it first or use rm -f", rec.ID)
	default:
		return fmt.Errorf("remove %s: %w", rec.ID, err)
	}
	// The network before the record: CNI DEL needs the namespace mounted.
	if err := c.detachNetwork(ctx, rec.ID); err != nil {
		return fmt.Errorf("remove %s: %w", rec.ID, err)
	}
	// As docker's --rm and rm -v: the container's anonymous volumes go
	// with it.
	var volumes []string
	if anonVolumes {
		volumes = c.volumesOfBundle(rec.Bundle)
	}
	if err := c.RemoveRecord(rec.ID); err != nil {
		return err
	}
	c.removeAnonymousVolumes(volumes)
	return nil
}

// ExecOptions describe a process to run in a running container. Zero
// values take the container's process settings.
type ExecOptions struct {
	Args     []string
	Env      []string
	Cwd      string
	User     string
	Terminal bool
	Stdin    bool
	// Detached gives the process no stdio (/dev/null), as docker exec -d.
	Detached bool
}

// Process is a process to exec in a container: its spec and the host
// paths of its stdio FIFOs.
type Process struct {
	ExecID string
	Spec   *specs.Process
	Stdio  driver.Stdio
	Pid    uint32
}

// PrepareExec builds the process to exec in a container from the
// container's process settings and opts, and makes FIFOs for its stdio in
// the record directory (RemoveExecFiles removes them). Open the FIFOs'
// other ends before StartExec: a process that ends at once would otherwise
// take its output with it.
func (c *Core) PrepareExec(rec *Record, opts ExecOptions) (_ *Process, retErr error) {
	if len(opts.Args) == 0 {
		return nil, driver.InvalidArgumentf("exec %s: no command given", rec.ID)
	}
	spec, err := ocispec.Load(rec.Bundle)
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", rec.ID, err)
	}
	p := *spec.Process
	p.Args = opts.Args
	p.Terminal = opts.Terminal
	p.ConsoleSize = nil
	if p.Env, err = mergeEnv(p.Env, opts.Env); err != nil {
		return nil, fmt.Errorf("exec %s: %w", rec.ID, err)
	}
	if opts.Terminal && !containsEnv(p.Env, "TERM") {
		p.Env = append(p.Env, "TERM=xterm")
	}
	if opts.Cwd != "" {
		p.Cwd = opts.Cwd
	}
	if opts.User != "" {
		root := ""
		if spec.Root != nil {
			root = spec.Root.Path
		}
		u, err := ResolveUser(root, opts.User)
		if err != nil {
			return nil, fmt.Errorf("exec %s: %w", rec.ID, err)
		}
		p.User = specs.User{UID: u.UID, GID: u.GID}
	}
	execID := "exec-" + NewID()
	if opts.Detached {
		if opts.Stdin || opts.Terminal {
			return nil, driver.InvalidArgumentf("exec %s: -d runs without stdio: no -i or -t", rec.ID)
		}
		return &Process{ExecID: execID, Spec: &p}, nil
	}
	defer func() {
		if retErr != nil {
			c.RemoveExecFiles(rec, execID)
		}
	}()
	stdio, err := makeStdio(c.ContainerDir(rec.ID), execID+".", opts.Stdin, opts.Terminal)
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", rec.ID, err)
	}
	return &Process{ExecID: execID, Spec: &p, Stdio: stdio}, nil
}

// StartExec asks the container's driver to start p.
func (c *Core) StartExec(ctx context.Context, rec *Record, p *Process) error {
	d, err := c.DriverOf(rec)
	if err != nil {
		return err
	}
	resp, err := d.Exec(ctx, &driver.ExecRequest{ID: rec.ID, ExecID: p.ExecID, Process: p.Spec, Stdio: p.Stdio})
	if err != nil {
		return err
	}
	p.Pid = resp.Pid
	return nil
}

// RemoveExecFiles removes the stdio FIFOs of an exec'd process.
func (c *Core) RemoveExecFiles(rec *Record, execID string) {
	for _, n := range []string{"stdin", "stdout", "stderr"} {
		os.Remove(filepath.Join(c.ContainerDir(rec.ID), execID+"."+n))
	}
}
