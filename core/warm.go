package core

import (
	"context"
	"errors"
	"time"

	"github.com/rtd-project/rtd/driver"
)

// Warm drivers (Options.WarmIdle): instead of launching a driver process
// per Core and ending it in Close, the core connects to a driver process
// kept warm per root and driver binary (driver.LaunchWarm: a socket under
// ROOT/sock) and leaves it running for the next rtd command; it ends itself
// once no client has been connected for WarmIdle, or when its socket (the
// root) goes away. A warm driver holds no container state, as no driver
// does, so killing it, or rtd, loses nothing.

// launchWarm connects to (or starts) the warm driver of d when the core
// keeps drivers warm; ok is false when the caller should launch the
// driver the ordinary way (warm drivers off, or not supported by the
// binary). Called with d.mu held.
func (d *Plugin) launchWarm(ctx context.Context, opts driver.LaunchOptions) (_ DriverProcess, ok bool, _ error) {
	if d.core.warmIdle <= 0 {
		return nil, false, nil
	}
	w, err := driver.LaunchWarm(ctx, d.Path, opts, d.core.warmIdle)
	if errors.Is(err, driver.ErrWarmUnsupported) {
		d.core.logger.Debug("warm driver not available; launching one for this command", "driver", d.Name, "reason", err)
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	d.proc, d.warm = warmProcess{w}, w
	return d.proc, true, nil
}

// warmProcess is a warm driver as a DriverProcess.
type warmProcess struct{ *driver.WarmClient }

func (w warmProcess) Client() *driver.Client { return w.WarmClient.Client }

// exitedAfterError reports whether p's process is gone after a call failed
// as Unavailable: a warm driver's connection breaks a moment before its
// process is reaped, so this waits for the exit a little (as Launch's
// client does).
func (d *Plugin) exitedAfterError(p DriverProcess) bool {
	if _, warm := p.(warmProcess); !warm {
		return p.Exited()
	}
	deadline := time.Now().Add(2 * time.Second)
	for !p.Exited() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}
