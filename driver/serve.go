package driver

import (
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// LogLevelEnv names the environment variable that sets the level of the
// logger NewLogger returns ("trace", "debug", "info", "warn", "error").
// Launch sets it to the host logger's level.
const LogLevelEnv = "RTD_DRIVER_LOG_LEVEL"

// Serve serves d as a driver plugin over go-plugin gRPC until the host
// closes the connection, then exits the process. It is what a driver's main
// calls last. A nil logger is replaced by NewLogger("driver").
func Serve(d Driver, logger hclog.Logger) {
	if logger == nil {
		logger = NewLogger("driver")
	}
	if warmMode() {
		serveWarm(d, logger) // does not return
		return
	}
	g := &guard{impl: d, logger: logger, gated: true}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         pluginSet(d),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return plugin.DefaultGRPCServer(append(opts, g.serverOptions()...))
		},
		Logger: logger,
	})
}

// NewLogger returns the logger a driver process should use: hclog JSON on
// stderr, which the host turns into structured log lines tagged with the
// driver name (stdout belongs to the go-plugin handshake). The level comes
// from $RTD_DRIVER_LOG_LEVEL, default info. Create it before calling Serve:
// Serve redirects os.Stderr, and the logger keeps the real one.
func NewLogger(name string) hclog.Logger {
	level := hclog.LevelFromString(os.Getenv(LogLevelEnv))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      level,
		Output:     os.Stderr,
		JSONFormat: true,
	})
}

// StateDirEnv names the environment variable through which the host gives a
// driver process its state directory (the core: ROOT/drivers/NAME; the
// conformance suite: a directory of its own). A driver keeps everything it
// must find again after a restart there.
const StateDirEnv = "RTD_DRIVER_STATE_DIR"

// StateDir returns the state directory the host gave this driver process
// ($RTD_DRIVER_STATE_DIR), "" when none.
func StateDir() string { return os.Getenv(StateDirEnv) }
