package core

import "github.com/hashicorp/go-hclog"

// pluginLogger is the logger handed to go-plugin. go-plugin reports a
// driver process that exited or had to be killed as a warning or error of
// its own; the core reports that itself (with the driver's last log lines)
// in the error the user sees, so those lines are demoted to debug. The
// driver's own log lines arrive through Named loggers and keep their level.
type pluginLogger struct{ hclog.Logger }

func (l pluginLogger) Log(level hclog.Level, msg string, args ...any) {
	l.Logger.Log(min(level, hclog.Debug), msg, args...)
}

func (l pluginLogger) Warn(msg string, args ...any)  { l.Logger.Debug(msg, args...) }
func (l pluginLogger) Error(msg string, args ...any) { l.Logger.Debug(msg, args...) }

func (l pluginLogger) With(args ...any) hclog.Logger { return pluginLogger{l.Logger.With(args...)} }
