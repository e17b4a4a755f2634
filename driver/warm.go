package driver

import (
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Warm drivers: a driver process the host starts detached, serving the
// contract on a unix socket at a fixed path (under the host's root), which
// later host processes (later CLI commands) reuse instead of launching a
// driver each. A warm driver holds no container state (no driver does:
// containers outlive driver processes) and ends itself: once no call has
// been in flight for its idle timeout, or as soon as its socket is removed
// (the root went away) or replaced. See LaunchWarm and docs/performance.md.

// WarmSocketEnv names the environment variable that puts a driver process
// in warm mode: Serve listens on this unix socket path instead of doing
// go-plugin's handshake.
const WarmSocketEnv = "RTD_DRIVER_WARM_SOCKET"

// WarmIdleEnv names the environment variable with a warm driver's idle
// timeout (a Go duration); default DefaultWarmIdle.
const WarmIdleEnv = "RTD_DRIVER_WARM_IDLE"

// DefaultWarmIdle is how long a warm driver stays up with no call in
// flight.
const DefaultWarmIdle = 5 * time.Second

// warmReady is the line a warm driver writes on its stdout once it
// listens; the host reads it before it connects.
const warmReady = "rtd-driver-warm-ready"

// ErrWarmUnsupported is returned by LaunchWarm when warm drivers are not
// available: on this OS, or from a driver binary that does not know warm
// mode (built with an older SDK). Launch the driver the ordinary way.
var ErrWarmUnsupported = errors.New("warm drivers not supported")

// warmIdle parses a warm idle timeout; invalid or empty gives the default.
func warmIdle(s string) time.Duration {
	if s == "" {
		return DefaultWarmIdle
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return DefaultWarmIdle
}

// warmMode reports whether this process was started as a warm driver.
func warmMode() bool { return os.Getenv(WarmSocketEnv) != "" }

// tailLines returns the last n non-empty lines of the file at path (of its
// last 16 KiB), formatted as a launched driver's stderr lines are.
func tailLines(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	const tail = 16 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > tail {
		_, _ = f.Seek(fi.Size()-tail, 0)
	}
	data, _ := io.ReadAll(f)
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		l = formatLogLine(strings.TrimRight(l, "\r"))
		if len(l) > maxLogLine {
			l = l[:maxLogLine] + "..."
		}
		out = append(out, l)
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}
