package gvisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
	"github.com/rtd-project/rtd/kit/monitor/proc"
	"github.com/rtd-project/rtd/kit/ocispec"
	"github.com/rtd-project/rtd/kit/sandboxrec"
)

// defaultSandboxStopTimeout is how long containers get after SIGTERM.
const defaultSandboxStopTimeout = 10 * time.Second

// The CRI annotations runsc reads to put a container in a sandbox.
const (
	criContainerType = "io.kubernetes.cri.container-type"
	criSandboxID     = "io.kubernetes.cri.sandbox-id"
)

// sandboxCgroup is a sandbox's default cgroup path: beside the driver's
// containers' (ocispec.CgroupsPath), named pod-ID.
func sandboxCgroup(scope, id string) string { return ocispec.CgroupsPath(scope, "pod-"+id) }

// pauseSpec is the spec of a sandbox's pause container: the driver's
// binary as /rtd-pause in an empty read-only root, in the sandbox's
// hostname, cgroup, resources and network namespace.
func pauseSpec(r *sandboxRecord, rootfs, exe string) *specs.Spec {
	return &specs.Spec{
		Version:  specs.Version,
		Hostname: r.Spec.Hostname,
		Process: &specs.Process{
			Args: []string{pausePath}, Cwd: "/", Env: []string{"PATH=/"}, NoNewPrivileges: true,
		},
		Root:        &specs.Root{Path: rootfs, Readonly: true},
		Mounts:      []specs.Mount{{Destination: pausePath, Type: "bind", Source: exe, Options: []string{"rbind", "ro"}}},
		Annotations: map[string]string{criContainerType: "sandbox", criSandboxID: runscSandboxID(r.Spec.ID)},
		Linux: &specs.Linux{
			CgroupsPath: r.Cgroup, Resources: r.Spec.Resources,
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace, Path: r.Spec.NetNSPath},
			},
		},
	}
}

// createPause runs `runsc create` of r's pause container in a session of
// its own and returns the sandbox process it started.
func (d *Driver) createPause(ctx context.Context, r *sandboxRecord) (proc.PidRecord, error) {
	id, dir := r.Spec.ID, d.sandboxDir(r.Spec.ID)
	rootfs, bundle := filepath.Join(dir, "rootfs"), filepath.Join(dir, "bundle")
	for _, p := range []string{rootfs, bundle, d.cfg.Root, d.cfg.LogDir} {
		if err := os.MkdirAll(p, 0o700); err != nil {
			return proc.PidRecord{}, fmt.Errorf("create sandbox %s: %w", id, err)
		}
	}
	if err := os.Chmod(rootfs, 0o755); err != nil {
		return proc.PidRecord{}, err
	}
	// The bind mount's target.
	if err := os.WriteFile(filepath.Join(rootfs, pausePath), nil, 0o755); err != nil {
		return proc.PidRecord{}, fmt.Errorf("create sandbox %s: %w", id, err)
	}
	if err := atomicfile.WriteJSON(filepath.Join(bundle, ocispec.ConfigName), pauseSpec(r, rootfs, d.exe), 0o600); err != nil {
		return proc.PidRecord{}, err
	}
	// runsc gives its stdio to the sandbox's user and chowns it: a file of
	// the sandbox's own, never a host device.
	stdio, err := os.OpenFile(filepath.Join(dir, "pause.out"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return proc.PidRecord{}, err
	}
	defer stdio.Close()
	rt := d.sandboxConfig(r).runtime()
	logFile, pidFile := filepath.Join(d.cfg.LogDir, runscSandboxID(id)+".log"), filepath.Join(dir, "sandbox.pid")
	args := append([]string{"--root", rt.Root}, rt.GlobalArgs...)
	args = append(args, "--log", logFile, "--log-format=json", "create", "--bundle", bundle, "--pid-file", pidFile, runscSandboxID(id))
	cmd := exec.CommandContext(ctx, d.cfg.Binary, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio, stdio, stdio
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Run(); err != nil {
		msg := runscError(logFile)
		if msg == "" {
			out, _ := os.ReadFile(stdio.Name())
			msg = strings.TrimSpace(string(out))
		}
		return proc.PidRecord{}, fmt.Errorf("create sandbox %s: runsc create: %v: %s", id, err, msg)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return proc.PidRecord{}, fmt.Errorf("create sandbox %s: runsc create wrote no pid file: %w", id, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return proc.PidRecord{}, fmt.Errorf("create sandbox %s: pid file: %w", id, err)
	}
	start, err := proc.ProcessStartTime(pid)
	if err != nil {
		return proc.PidRecord{}, fmt.Errorf("create sandbox %s: sandbox process %d: %w", id, pid, err)
	}
	return proc.PidRecord{Pid: pid, StartTime: start}, nil
}

// adaptMember makes spec a runsc sub-container of sandbox r: the CRI
// annotations, the sandbox's network namespace (so that forBundle gives it
// the sandbox's --network), and no cgroup of its own (its processes are the
// Sentry's, in the sandbox's cgroup).
func adaptMember(spec *specs.Spec, r *sandboxRecord) {
	if spec.Annotations == nil {
		spec.Annotations = map[string]string{}
	}
	spec.Annotations[criContainerType] = "container"
	spec.Annotations[criSandboxID] = runscSandboxID(r.Spec.ID)
	spec.Linux.CgroupsPath = ""
	ns := spec.Linux.Namespaces[:0]
	for _, n := range spec.Linux.Namespaces {
		if n.Type != specs.NetworkNamespace {
			ns = append(ns, n)
		}
	}
	spec.Linux.Namespaces = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: r.Spec.NetNSPath})
}

// StopSandbox stops the sandbox's containers (SIGTERM, SIGKILL after the
// timeout), then its sandbox process.
func (d *Driver) StopSandbox(ctx context.Context, req *driver.StopSandboxRequest) error {
	return d.sandboxes().Stop(ctx, req, defaultSandboxStopTimeout)
}

// ShutdownSandbox deletes the sandbox, its containers (running ones only
// with Force), its sandbox process, cgroup and records.
func (d *Driver) ShutdownSandbox(ctx context.Context, req *driver.ShutdownSandboxRequest) error {
	return d.sandboxes().Shutdown(ctx, req, func(r *sandboxRecord) error { return d.destroySandbox(ctx, r) })
}

// destroySandbox removes what a sandbox left: its process, runsc's state
// of it, its cgroup and records. The caller holds the sandbox's lock.
func (d *Driver) destroySandbox(ctx context.Context, r *sandboxRecord) error {
	id := r.Spec.ID
	sandboxrec.KillHolder(r.Holder)
	if err := d.sandboxConfig(r).runtime().Delete(ctx, runscSandboxID(id), true); err != nil && !errdefs.IsNotFound(err) {
		d.log.Warn("runsc delete", "sandbox", id, "error", err)
	}
	if err := removeCgroup(r.Cgroup); err != nil {
		return fmt.Errorf("shutdown sandbox %s: cgroup %s: %w", id, r.Cgroup, err)
	}
	os.Remove(filepath.Join(d.cfg.LogDir, runscSandboxID(id)+".log"))
	return d.sandboxes().Remove(id)
}

// removeCgroup removes the cgroup at path in every hierarchy (v1 and v2)
// where runsc left it; one already gone is fine.
func removeCgroup(path string) error {
	if path == "" {
		return nil
	}
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	roots = append(roots, "/sys/fs/cgroup")
	for _, root := range roots {
		err := os.Remove(filepath.Join(root, path))
		if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return err
		}
	}
	return nil
}
