//go:build linux

package driver

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
)

// warmDrain bounds how long a warm driver that stops (idle, or its socket
// gone) serves the connections it still has.
const warmDrain = 10 * time.Second

// serveWarm serves d on the unix socket $RTD_DRIVER_WARM_SOCKET until no
// client has been connected for the idle timeout, or the socket is removed
// or replaced (its root went away), or SIGTERM; then it exits the process.
func serveWarm(d Driver, logger hclog.Logger) {
	path := os.Getenv(WarmSocketEnv)
	idle := warmIdle(os.Getenv(WarmIdleEnv))
	// Not for the processes the driver starts (monitors).
	os.Unsetenv(WarmSocketEnv)
	os.Unsetenv(WarmIdleEnv)
	logger = logger.With("warm_socket", path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		logger.Error("warm driver: listen", "error", err)
		os.Exit(1)
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false) // removed below only while it is still ours
	if err := os.Chmod(path, 0o600); err != nil {
		logger.Error("warm driver: chmod socket", "error", err)
		os.Exit(1)
	}
	own, err := os.Stat(path)
	if err != nil {
		logger.Error("warm driver: stat socket", "error", err)
		os.Exit(1)
	}
	conns := &connCounter{last: time.Now()}
	srv := NewGRPCServer(d, logger, grpc.StatsHandler(conns))
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	// Caught, not ignored: an ignored signal would be inherited by the
	// monitors and the workloads the driver starts.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	go func() { _ = srv.Serve(ln) }()

	// The host reads this line, then closes its end of stdout.
	fmt.Fprintln(os.Stdout, warmReady)
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		_ = unix.Dup2(int(null.Fd()), 1)
		null.Close()
	}
	logger.Info("warm driver serving", "pid", os.Getpid(), "idle_timeout", idle.String())

	tick := time.NewTicker(min(idle/4, time.Second))
	defer tick.Stop()
	why := ""
	for why == "" {
		select {
		case sig := <-sigc:
			why = "signal " + sig.String()
		case <-tick.C:
			if fi, err := os.Stat(path); err != nil || !os.SameFile(fi, own) {
				why = "its socket was removed or replaced"
			} else if n, since := conns.idle(); n == 0 && since >= idle {
				why = fmt.Sprintf("idle for %s", since.Round(time.Millisecond))
			}
		}
	}
	// New clients must not find this socket any more; those connected go
	// on until they close (at most warmDrain).
	if fi, err := os.Stat(path); err == nil && os.SameFile(fi, own) {
		os.Remove(path)
	}
	ln.Close()
	logger.Info("warm driver stopping", "reason", why)
	ctx, cancel := context.WithTimeout(context.Background(), warmDrain)
	defer cancel()
	for {
		n, _ := conns.idle()
		if n == 0 || ctx.Err() != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.Stop()
	os.Exit(0)
}

// connCounter is a grpc stats handler that counts open connections and
// remembers when the last one closed.
type connCounter struct {
	mu   sync.Mutex
	n    int
	last time.Time
}

// idle returns the number of open connections and, when none, how long
// since the last one closed.
func (c *connCounter) idle() (int, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n > 0 {
		return c.n, 0
	}
	return 0, time.Since(c.last)
}

func (c *connCounter) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (c *connCounter) HandleRPC(context.Context, stats.RPCStats)                       {}
func (c *connCounter) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}

func (c *connCounter) HandleConn(_ context.Context, s stats.ConnStats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch s.(type) {
	case *stats.ConnBegin:
		c.n++
	case *stats.ConnEnd:
		c.n--
		c.last = time.Now()
	}
}
