//go:build linux

package monitor

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

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/monitor/proc"
	"github.com/rtd-project/rtd/internal/monitor/watch"
)

// Spawn starts "rtd-monitor STATE DIR" from the driver binary exe in its own
// session and waits for its start report. The monitor outlives the caller.
func Spawn(exe string, l Layout, dir string) (int, error) {
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
		Path:        exe,
		Args:        []string{Name, l.Root, dir},
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
	var rep proc.StartReport
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return 0, fmt.Errorf("monitor exited before reporting: %s", Tail(logPath))
	}
	if rep.Error != "" {
		return 0, proc.ClassedError(rep.Class, rep.Error)
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

// Tail returns the last lines of a log file for an error message.
func Tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return "(no output)"
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "; ")
}

// ReadExit returns the recorded exit status of a process dir, nil if none.
func ReadExit(dir string) *driver.ExitStatus {
	var st driver.ExitStatus
	if err := ReadJSON(filepath.Join(dir, "exit.json"), &st); err != nil {
		return nil
	}
	return &st
}

// Wait blocks until the exit status of a process is recorded and returns it.
// If its monitor died without recording it, Wait waits for the workload to
// end and records that the status is unknown.
func Wait(ctx context.Context, l Layout, id, execID string) (*driver.ExitStatus, error) {
	dir := l.ProcDir(id, execID)
	for {
		if st := ReadExit(dir); st != nil {
			return st, nil
		}
		err := callControl(ctx, l.SocketPath(id, execID), watch.Request{Op: "wait"})
		switch {
		case err == nil:
			continue
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, ErrGone):
			if st := ReadExit(dir); st != nil {
				return st, nil
			}
			return lostStatus(ctx, dir)
		default:
			return nil, err
		}
	}
}

// lostStatus handles a monitor that died without writing the exit status.
func lostStatus(ctx context.Context, dir string) (*driver.ExitStatus, error) {
	if rec, err := ReadPidRecord(dir); err == nil {
		for rec.Alive() {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	if st := ReadExit(dir); st != nil {
		return st, nil
	}
	st := &driver.ExitStatus{
		Code:     255,
		ExitedAt: time.Now().UTC(),
		Reason:   "the monitor of this process died before the process ended; its exit status is unknown",
	}
	if err := WriteJSONAtomic(filepath.Join(dir, "exit.json"), st); err != nil {
		return nil, err
	}
	return st, nil
}

// Resize changes the terminal size of a live process.
func Resize(ctx context.Context, l Layout, id, execID string, width, height uint32) error {
	return callControl(ctx, l.SocketPath(id, execID), watch.Request{Op: "resize", Width: uint16(width), Height: uint16(height)})
}

// CloseStdin closes the stdin of a live process.
func CloseStdin(ctx context.Context, l Layout, id, execID string) error {
	return callControl(ctx, l.SocketPath(id, execID), watch.Request{Op: "closeio"})
}

// Signal sends sig to a live process through its monitor (its parent, so
// the pid cannot have been reused).
func Signal(ctx context.Context, l Layout, id, execID string, sig syscall.Signal) error {
	return callControl(ctx, l.SocketPath(id, execID), watch.Request{Op: "kill", Signal: int(sig)})
}

// RemoveSockets removes the control sockets of a container and its execs.
func RemoveSockets(l Layout, id string) {
	os.Remove(l.SocketPath(id, ""))
	for _, e := range l.ExecIDs(id) {
		os.Remove(l.SocketPath(id, e))
	}
}
