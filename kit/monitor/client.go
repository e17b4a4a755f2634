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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
	"github.com/rtd-project/rtd/kit/monitor/proc"
	"github.com/rtd-project/rtd/kit/monitor/watch"
)

// SpawnOptions say how a monitor process is started where drivers differ.
type SpawnOptions struct {
	// Name is the monitor's argv[0] and process name, which the driver's
	// main recognises (IsMonitor); default Name ("rtd-monitor").
	Name string
	// Env lists prefixes of environment variables passed on to the monitor
	// ("RTD_VM_"), besides PATH= and GOMAXPROCS=; nothing else of the
	// driver's environment (go-plugin's) goes along.
	Env []string
	// KillOnCancel kills the monitor's session when ctx ends before the
	// start report (a monitor that boots a VM takes long).
	KillOnCancel bool
	// RecordPid writes monitor.pid from the driver side as soon as the
	// monitor runs (a monitor that does not use package proc, which writes
	// it itself first).
	RecordPid bool
	// Procs, when not 0, is the monitor's GOMAXPROCS unless the driver's
	// environment has one. A monitor that only starts its workload and
	// pumps its output gains nothing from a second P and pays for it in
	// threads spinning for work (docs/performance.md, issue 22); leave it
	// 0 for a monitor whose workload inherits its environment and is a
	// Go program (runsc).
	Procs int
}

// Spawn starts "NAME STATE DIR" from the binary exe in a session of its own
// (so it outlives the driver process) and waits for its start report on fd
// 3 (proc.StartReport): the workload's pid, or the error, of its errdefs
// class. The monitor's stdout and stderr go to DIR/monitor.log, whose last
// lines make the error when it dies before reporting.
func Spawn(ctx context.Context, exe string, l Layout, dir string, o SpawnOptions) (int, error) {
	if o.Name == "" {
		o.Name = Name
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	logPath := filepath.Join(dir, LogFile)
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		w.Close()
		return 0, err
	}
	env := Env(o.Env...)
	if _, set := os.LookupEnv("GOMAXPROCS"); !set && o.Procs > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(o.Procs))
	}
	cmd := &exec.Cmd{
		Path:        exe,
		Args:        []string{o.Name, l.Root, dir},
		Env:         env,
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
	if o.RecordPid {
		_ = proc.WritePidFile(filepath.Join(dir, proc.MonitorPidFile), cmd.Process.Pid)
	}
	if o.KillOnCancel {
		stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
		defer stop()
	}
	var rep proc.StartReport
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		if o.KillOnCancel && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("monitor exited before reporting: %s", Tail(logPath))
	}
	if rep.Error != "" {
		return 0, proc.ClassedError(rep.Class, rep.Error)
	}
	return rep.Pid, nil
}

// LogFile in a process dir is the monitor's stdout and stderr.
const LogFile = "monitor.log"

// Env is the environment of a monitor: PATH, GOMAXPROCS, $RTD_MONITOR and
// $RTD_MONITOR_QUICK_EXIT (package proc), and the variables whose names
// start with one of prefixes.
func Env(prefixes ...string) []string {
	prefixes = append([]string{"PATH=", "GOMAXPROCS=", proc.WatchBinaryEnv + "=", proc.QuickExitEnv + "="}, prefixes...)
	var env []string
	for _, kv := range os.Environ() {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				env = append(env, kv)
				break
			}
		}
	}
	return env
}

// Tail returns the last five lines of a log file, joined with "; ", for an
// error message; "(no output)" when there are none.
func Tail(path string) string {
	lines := TailLines(path, 5)
	if len(lines) == 0 {
		return "(no output)"
	}
	return strings.Join(lines, "; ")
}

// TailLines returns the last n lines of a text file (none when it is
// missing or blank).
func TailLines(path string, n int) []string {
	data, err := os.ReadFile(path)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// ExitFile in a process dir is the exit record (watch.ExitRecord).
const ExitFile = "exit.json"

// ReadExit returns the recorded exit status of a process dir, nil if none
// (or if it is unreadable, or of a newer format than this code reads).
func ReadExit(dir string) *driver.ExitStatus {
	var rec struct {
		Version int
		driver.ExitStatus
	}
	path := filepath.Join(dir, ExitFile)
	if err := atomicfile.ReadJSON(path, &rec); err != nil || proc.CheckVersion(path, rec.Version) != nil {
		return nil
	}
	return &rec.ExitStatus
}

// WriteExit records st in dir/exit.json (in the room the monitor reserved,
// when there is one).
func WriteExit(dir string, st *driver.ExitStatus) error {
	return watch.WriteExit(dir, watch.ExitStatus(*st))
}

// Wait blocks until the exit status of a process is recorded and returns it.
// A monitor that could not write it (a full disk) hands it over in its
// reply. If the monitor died without recording it, Wait does what Check
// does: the workload is killed and its exit recorded as lost.
func Wait(ctx context.Context, l Layout, id, execID string) (*driver.ExitStatus, error) {
	dir := l.ProcDir(id, execID)
	for {
		if st := ReadExit(dir); st != nil {
			return st, nil
		}
		reply, err := callControlReply(ctx, l.SocketPath(id, execID), watch.Request{Op: "wait"})
		switch {
		case err == nil && reply.Status != nil:
			st := driver.ExitStatus(*reply.Status)
			// Recorded when the disk has room again; the caller gets
			// the status either way.
			_ = WriteExit(dir, &st)
			return &st, nil
		case err == nil:
			continue
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, ErrGone):
			if st := ReadExit(dir); st != nil {
				return st, nil
			}
			lost, err := monitorLost(ctx, dir)
			if err != nil {
				return nil, err
			}
			if !lost {
				// Alive but not answering: still starting (it listens
				// before it reports), about to exit after writing, or
				// too slow to accept under load.
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(20 * time.Millisecond):
				}
				continue
			}
			return lostStatus(ctx, dir)
		default:
			return nil, err
		}
	}
}

// Check handles a process whose monitor died, as containerd handles a dead
// shim: when no exit status is recorded and the monitor (monitor.pid) is
// gone, the workload is killed (never left running unmanaged and unlogged)
// and its exit recorded as lost. It returns the recorded status, nil while
// the monitor lives (or never registered a workload).
func Check(ctx context.Context, l Layout, id, execID string) *driver.ExitStatus {
	dir := l.ProcDir(id, execID)
	if st := ReadExit(dir); st != nil {
		return st
	}
	if _, err := ReadPidRecord(dir); err != nil {
		return nil // no workload registered: Delete cleans up
	}
	// An unreadable monitor.pid is never taken for a dead monitor here.
	mon, err := proc.ReadMonitorPid(dir)
	if err != nil || !certainlyGone(mon) {
		return nil
	}
	st, err := lostStatus(ctx, dir)
	if err != nil {
		return nil
	}
	return st
}

// lostGrace is how long a monitor found gone is given before it is
// declared lost: its death is checked again, and its exit file read again,
// after it.
const lostGrace = 50 * time.Millisecond

// monitorLost reports whether the monitor of a process dir that does not
// answer has certainly died without recording an exit status. A
// monitor.pid that is missing or unreadable means a monitor still starting
// (it writes the file first, while it holds the dir's lock): the answer
// waits for that lock (until ctx is done). Only once the lock is free and
// the file still unreadable did no monitor ever run there.
func monitorLost(ctx context.Context, dir string) (bool, error) {
	mon, err := proc.ReadMonitorPid(dir)
	if err != nil {
		unlock, lerr := proc.LockDir(ctx, dir)
		if lerr != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return true, nil // the dir is gone: deleted
		}
		mon, err = proc.ReadMonitorPid(dir)
		unlock()
		if err != nil {
			return true, nil // no monitor ever ran here
		}
	}
	if !certainlyGone(mon) {
		return false, nil
	}
	return ReadExit(dir) == nil, nil
}

// certainlyGone reports whether a monitor has ended, checked twice a grace
// apart: only a /proc entry that is missing, reused or a zombie counts,
// never a failed read.
func certainlyGone(mon proc.PidRecord) bool {
	if !mon.Gone() {
		return false
	}
	time.Sleep(lostGrace)
	return mon.Gone()
}

// lostStatus records the exit of a process whose monitor died without
// writing it: a workload still running is killed (137), one that ended
// unwatched is 255. The status is returned even when the disk refuses it.
// An exit file found first (written as the monitor exited) wins.
func lostStatus(ctx context.Context, dir string) (*driver.ExitStatus, error) {
	if prev := ReadExit(dir); prev != nil {
		return prev, nil
	}
	mon, _ := proc.ReadMonitorPid(dir)
	st := &driver.ExitStatus{
		Code:   255,
		Reason: fmt.Sprintf("monitor lost: the monitor (pid %d) died and the process ended unwatched; its exit status is unknown", mon.Pid),
	}
	if rec, err := ReadPidRecord(dir); err == nil && rec.Alive() {
		if proc.KillRecorded(rec) {
			st = &driver.ExitStatus{
				Code: 137, Signal: 9,
				Reason: fmt.Sprintf("monitor lost: the monitor (pid %d) died; the process was killed, as its output and exit could no longer be watched", mon.Pid),
			}
		}
		for rec.Alive() {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	if prev := ReadExit(dir); prev != nil {
		return prev, nil
	}
	st.ExitedAt = time.Now().UTC()
	_ = WriteExit(dir, st)
	return st, nil
}

// LockDir takes a process dir's flock (see proc.LockDir): held by a
// monitor until its workload is registered.
func LockDir(ctx context.Context, dir string) (func(), error) { return proc.LockDir(ctx, dir) }

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

// RemoveProcDir removes a process dir and then waits (until ctx is done)
// for its monitor to exit: one that kept an unwritable exit status in
// memory exits once its dir is gone, and Delete returns with nothing left.
func RemoveProcDir(ctx context.Context, dir string) error {
	mon, merr := proc.ReadMonitorPid(dir)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for merr == nil && mon.Alive() && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// RemoveSockets removes the control sockets of a container and its execs.
func RemoveSockets(l Layout, id string) {
	os.Remove(l.SocketPath(id, ""))
	for _, e := range l.ExecIDs(id) {
		os.Remove(l.SocketPath(id, e))
	}
}
