//go:build !linux

package driver

import (
	"context"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
)

// WarmClient is a connection to a warm driver process; warm drivers need
// Linux (unix sockets, peer credentials) and are not available on this OS.
type WarmClient struct {
	*Client
	// Log is the file the warm driver writes its log lines to.
	Log string
}

// Pid is the warm driver's process id.
func (w *WarmClient) Pid() int { return 0 }

// Exited reports whether the warm driver process is gone.
func (w *WarmClient) Exited() bool { return true }

// Close closes the connection.
func (w *WarmClient) Close() {}

// LastLogLines returns the last lines of the warm driver's log file.
func (w *WarmClient) LastLogLines() []string { return nil }

// LaunchWarm is not available on this OS: ErrWarmUnsupported.
func LaunchWarm(context.Context, string, LaunchOptions, time.Duration) (*WarmClient, error) {
	return nil, ErrWarmUnsupported
}

// serveWarm: a driver is never started in warm mode on this OS.
func serveWarm(_ Driver, logger hclog.Logger) {
	logger.Error("warm drivers are not supported on this OS")
	os.Exit(1)
}
