package linux

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	lc "github.com/opencontainers/runc/libcontainer"

	"github.com/rtd-project/rtd/driver"
)

// Create starts a monitor that creates the container; the workload waits
// for Start.
func (d *Driver) Create(ctx context.Context, req *driver.CreateRequest) (_ *driver.CreateResponse, retErr error) {
	if err := validateID("container id", req.ID); err != nil {
		return nil, err
	}
	if len(req.Rootfs) > 0 {
		return nil, driver.InvalidArgumentf("create %s: rootfs mounts are not supported by the linux driver; give a bundle whose root.path is a directory", req.ID)
	}
	bundle, err := filepath.Abs(req.Bundle)
	if err != nil {
		return nil, driver.InvalidArgumentf("create %s: bundle %q: %v", req.ID, req.Bundle, err)
	}
	spec, err := loadSpec(bundle)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	rootfs := rootfsPath(bundle, spec)
	if fi, err := os.Stat(rootfs); err != nil || !fi.IsDir() {
		return nil, driver.InvalidArgumentf("create %s: rootfs %s: not a directory", req.ID, rootfs)
	}
	if err := os.MkdirAll(d.layout.containersDir(), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	dir := d.layout.containerDir(req.ID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if os.IsExist(err) {
			return nil, driver.AlreadyExistsf("create %s: container", req.ID)
		}
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	defer func() {
		if retErr != nil {
			if c, err := lc.Load(d.layout.lcRoot(), req.ID); err == nil {
				_ = c.Signal(syscall.SIGKILL)
				_ = c.Destroy()
			}
			os.RemoveAll(dir)
		}
	}()
	r := request{
		ID: req.ID, Bundle: bundle, Annotations: req.Annotations, Stdio: req.Stdio,
		CreatedAt: time.Now().UnixNano(),
	}
	if err := writeJSONAtomic(filepath.Join(dir, "request.json"), r); err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	pid, err := d.spawnMonitor(dir)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
	}
	d.log.Debug("created", "id", req.ID, "pid", pid)
	return &driver.CreateResponse{Pid: uint32(pid)}, nil
}

// spawnMonitor starts "rtd-monitor STATE DIR" in its own session and waits
// for its start report. The monitor outlives this process.
func (d *Driver) spawnMonitor(dir string) (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	logPath := filepath.Join(dir, "monitor.log")
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		w.Close()
		return 0, err
	}
	cmd := &exec.Cmd{
		Path:        d.exe,
		Args:        []string{monitorName, d.layout.root, dir},
		Env:         monitorEnv(),
		Stdout:      logf,
		Stderr:      logf,
		ExtraFiles:  []*os.File{w},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	w.Close()
	logf.Close()
	if err != nil {
		return 0, fmt.Errorf("start monitor: %w", err)
	}
	// Reap the monitor if it ends while this driver process lives.
	go cmd.Wait()
	var rep startReport
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return 0, fmt.Errorf("monitor exited before reporting: %s", tail(logPath))
	}
	if rep.Error != "" {
		return 0, classify(rep.Class, rep.Error)
	}
	return rep.Pid, nil
}

// monitorEnv keeps the monitor's environment small: nothing of go-plugin's.
func monitorEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, "GOMAXPROCS=") {
			env = append(env, kv)
		}
	}
	return env
}

// tail returns the last lines of a log file for an error message.
func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return "(no output)"
	}
	lines := splitLines(string(data))
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "; ")
}

// readExit returns the recorded exit status of a process dir, nil if none.
func readExit(dir string) *driver.ExitStatus {
	var st driver.ExitStatus
	if err := readJSON(filepath.Join(dir, "exit.json"), &st); err != nil {
		return nil
	}
	return &st
}

// lostStatus handles a monitor that died without writing the exit status:
// wait for the workload to end, then record that its status is unknown.
func (d *Driver) lostStatus(ctx context.Context, dir string) (*driver.ExitStatus, error) {
	if rec, err := readPidRecord(dir); err == nil {
		for rec.alive() {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	if st := readExit(dir); st != nil {
		return st, nil
	}
	st := &driver.ExitStatus{
		Code:     255,
		ExitedAt: time.Now().UTC(),
		Reason:   "the monitor of this process died before the process ended; its exit status is unknown",
	}
	if err := writeJSONAtomic(filepath.Join(dir, "exit.json"), st); err != nil {
		return nil, err
	}
	return st, nil
}

// lcError maps libcontainer errors to errdefs classes.
func lcError(op, id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, lc.ErrNotExist):
		return driver.NotFoundf("%s %s: container", op, id)
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
