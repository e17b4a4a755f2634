package linux

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/linux/lcmon"
	"github.com/rtd-project/rtd/kit/monitor/proc"
	"github.com/rtd-project/rtd/kit/sandboxrec"
)

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }

// holderReadyTimeout bounds the holder's setup.
const holderReadyTimeout = 10 * time.Second

// defaultSandboxStopTimeout is how long containers get after SIGTERM.
const defaultSandboxStopTimeout = 10 * time.Second

var cloneFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.IPCNamespace: syscall.CLONE_NEWIPC,
	specs.UTSNamespace: syscall.CLONE_NEWUTS,
	specs.PIDNamespace: syscall.CLONE_NEWPID,
}

// startHolder starts r's holder in new namespaces, a session leader of its
// own (it outlives this driver process), and waits until it is set up.
func (d *Driver) startHolder(ctx context.Context, r *sandboxRecord) (proc.PidRecord, error) {
	id := r.Spec.ID
	var flags uintptr
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	for _, ns := range r.Spec.Namespaces {
		flags |= cloneFlags[ns]
		if ns == specs.UTSNamespace && r.Spec.Hostname != "" {
			env = append(env, lcmon.HolderHostnameEnv+"="+r.Spec.Hostname)
		}
	}
	if r.Spec.NetNSPath == "" {
		flags |= syscall.CLONE_NEWNET
		env = append(env, lcmon.HolderLoopbackEnv+"=1")
	}
	logf, err := os.OpenFile(filepath.Join(d.sandboxDir(id), "holder.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return proc.PidRecord{}, fmt.Errorf("create sandbox %s: %w", id, err)
	}
	defer logf.Close()
	cmd := &exec.Cmd{
		Path: d.exe, Args: []string{"rtd-sandbox-holder", lcmon.HolderArg, id}, Env: env, Dir: "/",
		Stderr:      logf,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true, Cloneflags: flags},
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return proc.PidRecord{}, err
	}
	if err := cmd.Start(); err != nil {
		return proc.PidRecord{}, fmt.Errorf("create sandbox %s: start holder %s: %w", id, d.exe, err)
	}
	go cmd.Wait() // reaped here while this driver process lives
	start, err := proc.ProcessStartTime(cmd.Process.Pid)
	rec := proc.PidRecord{Pid: cmd.Process.Pid, StartTime: start}
	if err != nil {
		cmd.Process.Kill()
		return rec, fmt.Errorf("create sandbox %s: holder: %w", id, err)
	}
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- strings.TrimSpace(line)
	}()
	select {
	case line := <-ready:
		if line == lcmon.HolderReady {
			return rec, nil
		}
	case <-time.After(holderReadyTimeout):
	case <-ctx.Done():
	}
	proc.KillRecorded(rec)
	log, _ := os.ReadFile(logf.Name())
	return rec, fmt.Errorf("create sandbox %s: the holder process did not set up its namespaces: %s", id, strings.TrimSpace(string(log)))
}

// settle records the exit of a sandbox whose holder ended without a stop,
// so that every later call reports the same exit.
func (d *Driver) settle(id string) {
	unlock, err := d.lockSandbox(id)
	if err != nil {
		return
	}
	defer unlock()
	r, err := d.readSandbox("", id)
	if err != nil || r.Exit != nil || !r.Holder.Gone() {
		return
	}
	r.Exit = &driver.ExitStatus{Code: 137, Signal: 9, ExitedAt: time.Now().UTC(), Reason: "the sandbox's holder process ended without a stop"}
	_ = d.writeSandbox(r)
}

// Create in a sandbox: joinSandbox returns the Backend record of a
// container created in sandbox id (running, holder alive) and marks it a
// member.
func (d *Driver) joinSandbox(containerID, id string) ([]byte, error) {
	r, err := d.readSandbox("create "+containerID+" in sandbox", id)
	if err != nil {
		return nil, err
	}
	if sb := d.snapshot(r); sb.Status != driver.StatusRunning {
		return nil, driver.FailedPreconditionf("create %s: sandbox %s is %s, not running", containerID, id, sb.Status)
	}
	j := &lcmon.Join{Sandbox: id, Cgroup: r.Cgroup, Namespaces: map[specs.LinuxNamespaceType]string{specs.NetworkNamespace: r.NetNSPath}}
	for _, ns := range r.Spec.Namespaces {
		j.Namespaces[ns] = fmt.Sprintf("/proc/%d/ns/%s", r.Holder.Pid, nsFile(ns))
	}
	b, err := lcmon.EncodeJoin(j)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(d.sandboxDir(id), "members", containerID), nil, 0o600); err != nil {
		return nil, fmt.Errorf("create %s in sandbox %s: %w", containerID, id, err)
	}
	return b, nil
}

// nsFile is the /proc/PID/ns file of a namespace type.
func nsFile(t specs.LinuxNamespaceType) string {
	switch t {
	case specs.NetworkNamespace:
		return "net"
	case specs.MountNamespace:
		return "mnt"
	}
	return string(t)
}

// StopSandbox stops the sandbox's containers (SIGTERM, SIGKILL after the
// timeout), then its holder.
func (d *Driver) StopSandbox(ctx context.Context, req *driver.StopSandboxRequest) error {
	r, err := d.readSandbox("stop sandbox", req.ID)
	if err != nil {
		return err
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = defaultSandboxStopTimeout
	}
	if err := d.stopMembers(ctx, req.ID, timeout); err != nil {
		return err
	}
	unlock, err := d.lockSandbox(req.ID)
	if err != nil {
		return fmt.Errorf("stop sandbox %s: %w", req.ID, err)
	}
	defer unlock()
	if r, err = d.readSandbox("stop sandbox", req.ID); err != nil {
		return err
	}
	if r.Exit == nil {
		proc.KillRecorded(r.Holder)
		for deadline := time.Now().Add(5 * time.Second); !r.Holder.Gone() && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		r.Exit = &driver.ExitStatus{Code: 137, Signal: 9, ExitedAt: time.Now().UTC(), Reason: "sandbox stopped"}
		if err := d.writeSandbox(r); err != nil {
			return fmt.Errorf("stop sandbox %s: %w", req.ID, err)
		}
	}
	return nil
}

// stopMembers sends SIGTERM to every running container of the sandbox and
// SIGKILL to those still running after timeout.
func (d *Driver) stopMembers(ctx context.Context, id string, timeout time.Duration) error {
	return sandboxrec.StopMembers(ctx, d, d.members(id), timeout)
}

// ShutdownSandbox deletes the sandbox, its containers (running ones only
// with Force), holder, cgroup and records.
func (d *Driver) ShutdownSandbox(ctx context.Context, req *driver.ShutdownSandboxRequest) error {
	r, err := d.readSandbox("shutdown sandbox", req.ID)
	if err != nil {
		return err
	}
	members := d.members(req.ID)
	if !req.Force {
		if err := sandboxrec.RefuseRunning(ctx, d, req.ID, members); err != nil {
			return err
		}
	}
	for _, c := range members {
		if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: c, Force: true}); err != nil && !isNotFound(err) {
			return fmt.Errorf("shutdown sandbox %s: delete container %s: %w", req.ID, c, err)
		}
	}
	unlock, err := d.lockSandbox(req.ID)
	if err != nil {
		return fmt.Errorf("shutdown sandbox %s: %w", req.ID, err)
	}
	defer unlock()
	proc.KillRecorded(r.Holder)
	for deadline := time.Now().Add(5 * time.Second); !r.Holder.Gone() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if err := destroyCgroup(r.Cgroup); err != nil {
		return fmt.Errorf("shutdown sandbox %s: cgroup %s: %w", req.ID, r.Cgroup, err)
	}
	if err := os.RemoveAll(d.sandboxDir(req.ID)); err != nil {
		return fmt.Errorf("shutdown sandbox %s: %w", req.ID, err)
	}
	os.Remove(d.sandboxDir(req.ID) + ".lock")
	return nil
}

// SandboxMetrics reads the sandbox's cgroup.
func (d *Driver) SandboxMetrics(ctx context.Context, id string) (*driver.Stats, error) {
	r, err := d.readSandbox("sandbox metrics", id)
	if err != nil {
		return nil, err
	}
	return cgroupStats(r.Cgroup)
}
