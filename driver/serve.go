package driver

import (
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
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
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         pluginSet(d, logger),
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger:          logger,
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
