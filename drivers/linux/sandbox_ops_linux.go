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

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/linux/lcmon"
	"github.com/rtd-project/rtd/kit/monitor/proc"
	"github.com/rtd-project/rtd/kit/sandboxrec"
)

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
	logf, err := os.OpenFile(filepath.Join(d.sandboxes().SandboxDir(id), "holder.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
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

// Create in a sandbox: joinSandbox returns the Backend record of a
// container created in sandbox id (running, holder alive) and marks it a
// member.
func (d *Driver) joinSandbox(containerID, id string) ([]byte, error) {
	sbs := d.sandboxes()
	r, err := sbs.Join(containerID, id)
	if err != nil {
		return nil, err
	}
	j := &lcmon.Join{Sandbox: id, Cgroup: r.Cgroup, Namespaces: map[specs.LinuxNamespaceType]string{specs.NetworkNamespace: r.NetNSPath}}
	for _, ns := range r.Spec.Namespaces {
		j.Namespaces[ns] = fmt.Sprintf("/proc/%d/ns/%s", r.Holder.Pid, nsFile(ns))
	}
	b, err := lcmon.EncodeJoin(j)
	if err != nil {
		return nil, err
	}
	if err := sbs.MarkMember(containerID, id); err != nil {
		return nil, err
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
	return d.sandboxes().Stop(ctx, req, defaultSandboxStopTimeout)
}

// ShutdownSandbox deletes the sandbox, its containers (running ones only
// with Force), holder, cgroup and records.
func (d *Driver) ShutdownSandbox(ctx context.Context, req *driver.ShutdownSandboxRequest) error {
	sbs := d.sandboxes()
	return sbs.Shutdown(ctx, req, func(r *sandboxRecord) error {
		sandboxrec.KillHolder(r.Holder)
		if err := destroyCgroup(r.Cgroup); err != nil {
			return fmt.Errorf("shutdown sandbox %s: cgroup %s: %w", req.ID, r.Cgroup, err)
		}
		return sbs.Remove(req.ID)
	})
}

// SandboxMetrics reads the sandbox's cgroup.
func (d *Driver) SandboxMetrics(ctx context.Context, id string) (*driver.Stats, error) {
	r, err := d.sandboxes().Read("sandbox metrics", id)
	if err != nil {
		return nil, err
	}
	return cgroupStats(r.Cgroup)
}
