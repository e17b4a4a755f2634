package driver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	driverv1 "github.com/rtd-project/rtd/api/driver/v1"
)

// DefaultStartTimeout bounds the go-plugin handshake when
// LaunchOptions.StartTimeout is zero.
const DefaultStartTimeout = 30 * time.Second

// logLines is how many stderr lines a Process remembers.
const logLines = 20

// LaunchOptions configures Launch.
type LaunchOptions struct {
	// Name is the driver's name in logs and errors; default: the binary's
	// name without its "rtd-driver-" prefix.
	Name string
	// Logger receives the driver's log lines, tagged driver=Name; nil
	// discards them (the last lines are still kept for errors).
	Logger hclog.Logger
	// StateDir, when set, is the driver's state directory, passed in
	// $RTD_DRIVER_STATE_DIR (StateDirEnv), where the driver's StateDir
	// finds it. The caller creates it.
	StateDir string
	// Env is added to the environment the driver inherits (later wins).
	Env []string
	// SocketDir, when set, holds the driver's unix socket, in a private
	// subdirectory; it is created (mode 0700) if missing. Ignored on Windows,
	// where go-plugin uses TCP on localhost.
	SocketDir string
	// StartTimeout bounds the handshake; default DefaultStartTimeout. A
	// deadline on Launch's ctx shortens it.
	StartTimeout time.Duration
}

// Launch starts the driver binary at path as a go-plugin gRPC plugin and
// returns its Process, whose Client speaks the contract to it. The process
// outlives ctx, which bounds only the start; Process.Close ends it. A
// missing binary is NotFound; a binary that exits, hangs or is not a driver
// is Unavailable, with its last stderr lines.
func Launch(ctx context.Context, path string, opts LaunchOptions) (_ *Process, retErr error) {
	name := opts.Name
	if name == "" {
		name = strings.TrimPrefix(filepath.Base(path), "rtd-driver-")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("launch driver %q: %w", name, err)
	}
	if err := checkBinary(name, path); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	logger = logger.With("driver", name)
	timeout := startTimeout(ctx, opts.StartTimeout)

	socketDir, socketLock, err := makeSocketDir(opts.SocketDir, name)
	if err != nil {
		return nil, err
	}
	// The process lives until Close; ctx only bounds the start (below).
	procCtx, stopProc := context.WithCancel(context.WithoutCancel(ctx))
	p := &Process{name: name, path: path, logs: newLogRing(logLines), stopProc: stopProc,
		socketDir: socketDir, socketLock: socketLock}
	defer func() {
		if retErr != nil {
			p.Close()
		}
	}()
	cmd := exec.CommandContext(procCtx, path)
	dieWithParent(cmd)
	cmd.Env = driverEnv(logger, opts, socketDir)
	pc := newPluginClient(cmd, logger, p.logs, timeout)

	begin := time.Now()
	rpcClient, err := handshake(ctx, pc, stopProc)
	if err != nil {
		return nil, startError(ctx, pc, name, path, p.logs, err, time.Since(begin), timeout)
	}
	p.pc = pc
	rpc, err := dispense(rpcClient, name, path)
	if err != nil {
		return nil, err
	}
	p.client = &Client{name: name, target: path, rpc: rpc, proc: p, exitWait: 2 * time.Second, maxErrLogs: 10}
	if rc := pc.ReattachConfig(); rc != nil {
		p.pid = rc.Pid
	}
	logger.Debug("driver started", "path", path, "pid", p.pid)
	return p, nil
}

// checkBinary refuses a path that is missing or not a file.
func checkBinary(name, path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return NotFoundf("driver %q (%s): binary not found", name, path)
	case err != nil:
		return Unavailablef("driver %q (%s): %v", name, path, err)
	case fi.IsDir():
		return InvalidArgumentf("driver %q (%s) is a directory, not an executable", name, path)
	}
	return nil
}

// startTimeout is the handshake's bound: the option or the default,
// shortened by ctx's deadline.
func startTimeout(ctx context.Context, timeout time.Duration) time.Duration {
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(deadline))
	}
	return timeout
}

// newPluginClient is the go-plugin client that runs cmd; every stderr line
// goes to logs, and stdout and stderr written after the handshake to logger.
func newPluginClient(cmd *exec.Cmd, logger hclog.Logger, logs *logRing, timeout time.Duration) *plugin.Client {
	return plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          pluginSet(nil),
		Cmd:              cmd,
		SkipHostEnv:      true, // cmd.Env already has it, so opts.Env can override
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Managed:          false,
		StartTimeout:     timeout,
		Logger:           logger,
		Stderr:           &lineWriter{ring: logs},
		SyncStdout:       &lineWriter{ring: logs, logger: logger.Named("stdout")},
		SyncStderr:       &lineWriter{ring: logs, logger: logger.Named("stderr")},
	})
}

// handshake starts pc's process and completes the handshake; it kills the
// process (stopProc) if ctx ends first.
func handshake(ctx context.Context, pc *plugin.Client, stopProc context.CancelFunc) (plugin.ClientProtocol, error) {
	started, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-ctx.Done():
			stopProc()
		case <-started:
		}
	}()
	var rpcClient plugin.ClientProtocol
	var err error
	onLauncherThread(func() { rpcClient, err = pc.Client() })
	close(started)
	<-watched
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return rpcClient, err
}

// dispense returns the driver contract's gRPC client from a started plugin.
func dispense(rpcClient plugin.ClientProtocol, name, path string) (driverv1.DriverClient, error) {
	raw, err := rpcClient.Dispense(PluginName)
	if err != nil {
		return nil, Unavailablef("driver %q (%s): dispense %q plugin: %v", name, path, PluginName, err)
	}
	rpc, ok := raw.(driverv1.DriverClient)
	if !ok {
		return nil, Unavailablef("driver %q (%s): unexpected plugin client type %T", name, path, raw)
	}
	return rpc, nil
}

// startError explains a failed start; it stops the process first, so that
// every stderr line has been read.
func startError(ctx context.Context, pc *plugin.Client, name, path string, logs *logRing, err error, took, timeout time.Duration) error {
	timedOut := strings.Contains(err.Error(), "timeout while waiting for plugin to start")
	exitedAlone := false
	if !timedOut && ctx.Err() == nil && pc.ReattachConfig() == nil {
		// Give a process that is on its way out the time to be reaped.
		deadline := time.Now().Add(500 * time.Millisecond)
		for !pc.Exited() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		exitedAlone = pc.Exited()
	}
	pc.Kill()
	suffix := logSuffix(logs.lines(), logLines)
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("driver %q (%s): start interrupted after %s: %w", name, path, took.Round(time.Millisecond), ctx.Err())
	case errors.Is(err, fs.ErrNotExist):
		return NotFoundf("driver %q (%s): cannot run it: %v", name, path, err)
	case errors.As(err, new(*fs.PathError)):
		return Unavailablef("driver %q (%s): cannot run it: %v", name, path, err)
	case timedOut:
		return Unavailablef("driver %q (%s) did not complete the handshake within %s%s", name, path, timeout, suffix)
	case exitedAlone:
		if out, ok := strings.CutPrefix(msg, "Unrecognized remote plugin message: "); ok && out != "" {
			return Unavailablef("driver %q (%s) exited before the handshake: not an rtd driver (it printed %q)%s", name, path, out, suffix)
		}
		return Unavailablef("driver %q (%s) exited before the handshake%s", name, path, suffix)
	default:
		return Unavailablef("driver %q (%s) failed the handshake: %s%s", name, path, msg, suffix)
	}
}

// driverEnv is the driver's environment: ours, the log level, the state
// directory, opts.Env, and the socket directory go-plugin's server reads.
func driverEnv(logger hclog.Logger, opts LaunchOptions, socketDir string) []string {
	env := os.Environ()
	// Log at least at info, so the last lines explain a crash; the host
	// logger filters what it shows.
	if lvl := logger.GetLevel(); lvl != hclog.NoLevel && lvl != hclog.Off {
		env = append(env, LogLevelEnv+"="+min(lvl, hclog.Info).String())
	}
	if opts.StateDir != "" {
		env = append(env, StateDirEnv+"="+opts.StateDir)
	}
	env = append(env, opts.Env...)
	if socketDir != "" {
		env = append(env, plugin.EnvUnixSocketDir+"="+socketDir)
	}
	return env
}

// makeSocketDir creates a private directory for one driver's socket inside
// dir (created 0700 if missing); "" when dir is "" or on Windows. The
// directory is built under a hidden name, flock'ed (the lock lives as long
// as this process: the returned file) and renamed into place, so a
// directory named driver-* whose lock is free belongs to a process that
// died without removing it: those are removed here first.
func makeSocketDir(dir, name string) (string, *os.File, error) {
	if dir == "" || runtime.GOOS == "windows" {
		return "", nil, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, Unavailablef("driver %q: create socket directory: %v", name, err)
	}
	removeStaleSocketDirs(dir)
	base := "driver-" + strings.NewReplacer("/", "_", `\`, "_").Replace(name) + "-"
	tmp, err := os.MkdirTemp(dir, "."+base)
	if err != nil {
		return "", nil, Unavailablef("driver %q: create socket directory: %v", name, err)
	}
	lock, err := lockDir(tmp)
	if err != nil {
		os.Remove(tmp)
		return "", nil, Unavailablef("driver %q: lock socket directory: %v", name, err)
	}
	sub := filepath.Join(dir, strings.TrimPrefix(filepath.Base(tmp), "."))
	if err := os.Rename(tmp, sub); err != nil {
		lock.Close()
		os.Remove(tmp)
		return "", nil, Unavailablef("driver %q: create socket directory: %v", name, err)
	}
	return sub, lock, nil
}

// staleTempAge is how old a hidden socket directory must be before it is
// taken for a leftover (its creator renames it within microseconds).
const staleTempAge = 10 * time.Second

// removeStaleSocketDirs removes the socket directories in dir whose owner
// died: driver-* whose lock is free, and old hidden ones never renamed.
func removeStaleSocketDirs(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case strings.HasPrefix(e.Name(), "driver-"):
			if dirUnlocked(p) {
				_ = os.RemoveAll(p)
			}
		case strings.HasPrefix(e.Name(), ".driver-"):
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTempAge {
				_ = os.RemoveAll(p)
			}
		}
	}
}

func removeSocketDir(dir string) {
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
}
