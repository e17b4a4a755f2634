//go:build linux

package skeleton

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs/pkg/errgrpc"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/ocicli"
	"github.com/rtd-project/rtd/kit/statestore"
)

// monitorArg is argv[1] of the driver binary re-executed as a monitor.
const monitorArg = "skeleton-monitor"

// monitorConfig is argv[2] of a monitor: what it runs.
type monitorConfig struct {
	ID, Bundle, StateDir string
	Runtime              ocicli.Runtime
	Stdio                driver.Stdio
}

// report is the monitor's one answer to the driver, on fd 3: the init pid,
// or an error with its gRPC code (so it keeps its errdefs class).
type report struct {
	Pid  int
	Code codes.Code
	Msg  string
}

// Reexec runs the monitor and exits when the binary was started as one. A
// driver's main calls it first.
func Reexec() {
	if len(os.Args) == 3 && os.Args[1] == monitorArg {
		os.Exit(monitor(os.Args[2]))
	}
}

// spawnMonitor starts the monitor of a container in a session of its own
// (a driver's death does not reach it) and returns the init pid it reports.
func spawnMonitor(rt *ocicli.Runtime, stateDir, id string, rec *record) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	cfg := monitorConfig{ID: id, Bundle: rec.Bundle, StateDir: stateDir, Runtime: *rt, Stdio: rec.Stdio}
	cmd := exec.Command(exe, monitorArg, string(encodeJSON(cfg)))
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return 0, fmt.Errorf("start monitor: %w", err)
	}
	go cmd.Wait() // reaped here while this driver process lives
	var rep report
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return 0, driver.Unavailablef("monitor ended without a report: %v", err)
	}
	if rep.Msg != "" {
		return 0, errgrpc.ToNative(status.New(rep.Code, rep.Msg).Err())
	}
	return rep.Pid, nil
}

// monitor runs `runc create` as the subreaper of runc's processes, reports
// the init pid, feeds stdin and records the exit status of init.
func monitor(arg string) int {
	out := os.NewFile(3, "report")
	var cfg monitorConfig
	pid, oomFile, err := func() (int, string, error) {
		if err := json.Unmarshal([]byte(arg), &cfg); err != nil {
			return 0, "", err
		}
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return 0, "", err
		}
		return create(&cfg)
	}()
	if err != nil {
		st, _ := status.FromError(errgrpc.ToGRPC(err))
		out.Write(encodeJSON(report{Code: st.Code(), Msg: st.Message()}))
		return 1
	}
	out.Write(encodeJSON(report{Pid: pid}))
	out.Close()
	exit := &driver.ExitStatus{Reason: "the monitor lost its child"}
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR || (err == nil && got != pid) {
			continue
		}
		if err == nil {
			exit = &driver.ExitStatus{Code: uint32(ws.ExitStatus())}
			if ws.Signaled() {
				exit.Code, exit.Signal = 128+uint32(ws.Signal()), int32(ws.Signal())
			}
		}
		break
	}
	exit.ExitedAt = time.Now()
	data, _ := os.ReadFile(oomFile)
	for _, line := range strings.Split(string(data), "\n") {
		if n, ok := strings.CutPrefix(line, "oom_kill "); ok && n != "0" {
			exit.OOMKilled = true
		}
	}
	_ = statestore.Store{Root: cfg.StateDir}.SaveExit(cfg.ID, exit)
	return 0
}

// create runs `runc create` with the container's stdio and returns the init
// pid and the cgroup file that counts its OOM kills.
func create(cfg *monitorConfig) (int, string, error) {
	var files [3]*os.File
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close() // the container has its own copies
			}
		}
	}()
	if cfg.Stdio.Stdin != "" {
		r, w, err := os.Pipe()
		if err != nil {
			return 0, "", err
		}
		files[0] = r
		go func() { // a FIFO's open blocks until its writer comes
			if f, err := os.Open(cfg.Stdio.Stdin); err == nil {
				_, _ = io.Copy(w, f)
			}
			w.Close()
		}()
	}
	for i, path := range []string{cfg.Stdio.Stdout, cfg.Stdio.Stderr} {
		if path == "" {
			continue
		}
		flag := os.O_WRONLY | os.O_APPEND | os.O_CREATE
		if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
			flag = os.O_RDWR // never blocks; the reader sees EOF when the container exits
		}
		f, err := os.OpenFile(path, flag, 0o600)
		if err != nil {
			return 0, "", driver.InvalidArgumentf("create %s: stdio %s: %v", cfg.ID, path, err)
		}
		files[i+1] = f
	}
	if err := os.MkdirAll(cfg.Runtime.LogDir, 0o700); err != nil {
		return 0, "", err
	}
	pidFile := filepath.Join(cfg.StateDir, "containers", cfg.ID, "init.pid")
	stdio := ocicli.FileIO(files[0], files[1], files[2])
	if err := cfg.Runtime.Create(context.Background(), cfg.ID, cfg.Bundle, ocicli.CreateOpts{IO: stdio, PidFile: pidFile}); err != nil {
		return 0, "", err
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, "", err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid, oomFile(pid), err
}

// oomFile is the cgroup file of pid with its "oom_kill N" counter.
func oomFile(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		switch {
		case len(parts) != 3:
		case parts[1] == "memory":
			return filepath.Join("/sys/fs/cgroup/memory", parts[2], "memory.oom_control")
		case parts[0] == "0" && parts[1] == "":
			if _, err := os.Stat("/sys/fs/cgroup/memory"); err != nil { // pure cgroup v2
				return filepath.Join("/sys/fs/cgroup", parts[2], "memory.events")
			}
		}
	}
	return ""
}
