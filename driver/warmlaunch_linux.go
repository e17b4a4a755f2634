//go:build linux

package driver

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"

	driverv1 "github.com/rtd-project/rtd/api/driver/v1"
)

// WarmClient is a connection to a warm driver process (LaunchWarm). Its
// Client speaks the contract; Close closes the connection only: the
// process stays for later callers and ends itself when idle.
type WarmClient struct {
	*Client
	cc  *grpc.ClientConn
	pid atomic.Int64
	// Log is the file the warm driver writes its log lines to.
	Log string
}

// Pid is the warm driver's process id (from the socket's peer credentials).
func (w *WarmClient) Pid() int { return int(w.pid.Load()) }

// Exited reports whether the warm driver process is gone (or a zombie).
func (w *WarmClient) Exited() bool {
	pid := w.Pid()
	if pid <= 0 {
		return false
	}
	if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
		return true
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && len(s) > i+2 {
		return s[i+2] == 'Z' || s[i+2] == 'X'
	}
	return false
}

// Close closes the connection; the warm driver keeps running.
func (w *WarmClient) Close() { _ = w.cc.Close() }

// LastLogLines returns the last lines of the warm driver's log file.
func (w *WarmClient) LastLogLines() []string { return tailLines(w.Log, logLines) }

// LaunchWarm connects to the warm driver of the binary at path serving in
// opts.SocketDir (required), starting one if none serves: detached (its own
// session, not killed with the caller), with idle as its idle timeout. The
// socket's name is a hash of the binary (path, size, modification time,
// inode) and of opts.Env and the caller's RTD_* and PATH variables, so a
// rebuilt binary or another environment gets a driver of its own. A binary
// that does not know warm mode gives ErrWarmUnsupported: use Launch.
func LaunchWarm(ctx context.Context, path string, opts LaunchOptions, idle time.Duration) (*WarmClient, error) {
	name := opts.Name
	if name == "" {
		name = strings.TrimPrefix(filepath.Base(path), "rtd-driver-")
	}
	if opts.SocketDir == "" {
		return nil, InvalidArgumentf("warm driver %q: no socket directory", name)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		// Launch explains a missing or unusable binary.
		return nil, fmt.Errorf("%w: %s is not an executable file", ErrWarmUnsupported, path)
	}
	if err := os.MkdirAll(opts.SocketDir, 0o700); err != nil {
		return nil, Unavailablef("driver %q: create socket directory: %v", name, err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	logger = logger.With("driver", name)
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	base := filepath.Join(opts.SocketDir, "warm-"+strings.NewReplacer("/", "_", `\`, "_").Replace(name)+"-"+warmKey(path, fi, opts.Env))
	w := &WarmClient{Log: base + ".log"}
	sock := base + ".sock"
	if err := w.connect(ctx, sock, name, path); err == nil {
		return w, nil
	}
	// None serves: start one, one caller at a time.
	unlock, err := lockFile(ctx, base+".lock", timeout)
	if err != nil {
		return nil, Unavailablef("driver %q: lock %s: %v", name, base+".lock", err)
	}
	defer unlock()
	if err := w.connect(ctx, sock, name, path); err == nil {
		return w, nil
	}
	os.Remove(sock) // a driver killed before it could remove it
	sweepWarmFiles(opts.SocketDir, base)
	if err := spawnWarm(ctx, path, name, sock, w.Log, idle, timeout, driverEnv(logger, opts, "")); err != nil {
		return nil, err
	}
	if err := w.connect(ctx, sock, name, path); err != nil {
		return nil, Unavailablef("driver %q (%s): connect to the warm driver: %v", name, path, err)
	}
	logger.Debug("warm driver started", "path", path, "pid", w.Pid(), "socket", sock)
	return w, nil
}

// warmKey names the warm driver of a binary in an environment.
func warmKey(path string, fi os.FileInfo, env []string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%d\x00", path, fi.Size(), fi.ModTime().UnixNano())
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		fmt.Fprintf(h, "%d\x00%d\x00", st.Dev, st.Ino)
	}
	var vars []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "RTD_") || strings.HasPrefix(kv, "PATH=") {
			vars = append(vars, kv)
		}
	}
	sort.Strings(vars)
	for _, kv := range append(vars, env...) {
		fmt.Fprintf(h, "%s\x00", kv)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// connect dials the warm driver at sock and waits until the connection is
// up (the driver counts it from then on, so it will not stop under us).
func (w *WarmClient) connect(ctx context.Context, sock, name, path string) error {
	dial := func(ctx context.Context, _ string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, "unix", sock)
		if err != nil {
			return nil, err
		}
		if uc, ok := conn.(*net.UnixConn); ok {
			if raw, err := uc.SyscallConn(); err == nil {
				_ = raw.Control(func(fd uintptr) {
					if cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
						w.pid.Store(int64(cred.Pid))
					}
				})
			}
		}
		return conn, nil
	}
	// Fail fast if nothing listens: no dial through grpc's backoff.
	probe, err := dial(ctx, "")
	if err != nil {
		return err
	}
	probe.Close()
	cc, err := grpc.NewClient("passthrough:///"+sock,
		grpc.WithContextDialer(dial),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32)),
	)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	cc.Connect()
	for s := cc.GetState(); s != connectivity.Ready; s = cc.GetState() {
		if s == connectivity.TransientFailure || s == connectivity.Shutdown || !cc.WaitForStateChange(cctx, s) {
			cc.Close()
			return fmt.Errorf("connect %s: %s", sock, s)
		}
	}
	w.cc = cc
	w.Client = &Client{
		name:       name,
		target:     path,
		rpc:        driverv1.NewDriverClient(cc),
		proc:       w,
		exitWait:   2 * time.Second,
		maxErrLogs: 10,
	}
	return nil
}

// sweepWarmFiles removes the lock and log files of warm drivers of other
// keys (an older build, another environment) that no longer run: no socket,
// lock free. Called when a driver is started, which is rare.
func sweepWarmFiles(dir, keep string) {
	locks, _ := filepath.Glob(filepath.Join(dir, "warm-*.lock"))
	for _, l := range locks {
		base := strings.TrimSuffix(l, ".lock")
		if base == keep {
			continue
		}
		if _, err := os.Lstat(base + ".sock"); err == nil {
			continue
		}
		f, err := os.Open(l)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			os.Remove(base + ".log")
			os.Remove(l)
		}
		f.Close()
	}
}

// spawnWarm starts the driver binary in warm mode, detached, and waits for
// its ready line.
func spawnWarm(ctx context.Context, path, name, sock, logPath string, idle, timeout time.Duration, env []string) error {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return Unavailablef("driver %q: warm driver log: %v", name, err)
	}
	defer logf.Close()
	r, wr, err := os.Pipe()
	if err != nil {
		return Unavailablef("driver %q: %v", name, err)
	}
	defer r.Close()
	cmd := exec.Command(path)
	cmd.Env = append(env, WarmSocketEnv+"="+sock, WarmIdleEnv+"="+idle.String())
	cmd.Stdout, cmd.Stderr = wr, logf
	// Not the first caller's directory: later callers have their own, and
	// a driver must not pin a directory (or a mount) for its idle time.
	cmd.Dir = "/"
	// Its own session: no ^C of the caller's terminal, no death with the
	// caller; it ends itself (idle timeout, socket gone).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	wr.Close()
	if err != nil {
		return Unavailablef("driver %q (%s): cannot run it: %v", name, path, err)
	}
	go func() { _ = cmd.Wait() }() // reaped if it ends while we live
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = r.SetReadDeadline(deadline)
	line, err := bufio.NewReader(r).ReadString('\n')
	if strings.TrimSpace(line) == warmReady {
		return nil
	}
	_ = cmd.Process.Kill()
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return Unavailablef("driver %q (%s) did not become ready as a warm driver within %s (log: %s)", name, path, timeout, logPath)
	}
	// Exited or printed something else: a driver without warm mode.
	return fmt.Errorf("%w: driver %q (%s) printed %q", ErrWarmUnsupported, name, path, strings.TrimSpace(line))
}

// lockFile takes an exclusive flock on path (created 0600), waiting at most
// timeout (or until ctx ends), and returns its release. The wait blocks in
// the kernel rather than polling: when many commands start at once, all but
// one wait here while that one starts the driver.
func lockFile(ctx context.Context, path string, timeout time.Duration) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
		return func() { f.Close() }, nil
	}
	got := make(chan error, 1)
	go func() {
		for {
			err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
			if err != unix.EINTR {
				got <- err
				return
			}
		}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-got:
		if err != nil {
			f.Close()
			return nil, err
		}
		return func() { f.Close() }, nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = fmt.Errorf("timed out after %s", timeout)
	}
	// Gave up: release the lock if the blocked flock gets it later.
	go func() {
		<-got
		f.Close()
	}()
	return nil, err
}
