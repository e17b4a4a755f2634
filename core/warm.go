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
func (d *Driver) launchWarm(ctx context.Context, opts driver.LaunchOptions) (_ *driver.Client, ok bool, _ error) {
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
	d.client, d.warm = w.Client, w
	return w.Client, true, nil
}

// exited reports whether the process behind cl is gone.
func (d *Driver) exited(cl *driver.Client) bool {
	if d.warm != nil && d.warm.Client == cl {
		return d.warm.Exited()
	}
	return cl.Exited()
}

// exitedAfterError is exited after a call failed as Unavailable: a warm
// driver's connection breaks a moment before its process is reaped, so
// this waits for the exit a little (as Launch's client does).
func (d *Driver) exitedAfterError(cl *driver.Client) bool {
	d.mu.Lock()
	warm := d.warm
	d.mu.Unlock()
	if warm == nil || warm.Client != cl {
		return cl.Exited()
	}
	deadline := time.Now().Add(2 * time.Second)
	for !warm.Exited() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// pid is the driver process's id; called with d.mu held.
func (d *Driver) pid() int {
	if d.warm != nil {
		return d.warm.Pid()
	}
	return d.client.Pid()
}

// lastLogLines are the driver process's last log lines; called with d.mu
// held.
func (d *Driver) lastLogLines() []string {
	if d.warm != nil {
		return d.warm.LastLogLines()
	}
	return d.client.LastLogLines()
}
