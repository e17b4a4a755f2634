package core

import (
	"context"

	"github.com/rtd-project/rtd/driver"
)

// Pause freezes every process of a container.
func (d *Plugin) Pause(ctx context.Context, id string) error {
	return d.Do(ctx, func(cl *driver.Client) error { return cl.Pause(ctx, id) })
}

// Resume thaws a paused container.
func (d *Plugin) Resume(ctx context.Context, id string) error {
	return d.Do(ctx, func(cl *driver.Client) error { return cl.Resume(ctx, id) })
}

// Stats returns a container's resource usage, retried through a relaunch.
func (d *Plugin) Stats(ctx context.Context, id string) (st *driver.Stats, err error) {
	err = d.Retry(ctx, func(cl *driver.Client) error { st, err = cl.Stats(ctx, id); return err })
	return st, err
}

// Pids lists a container's processes, retried through a relaunch.
func (d *Plugin) Pids(ctx context.Context, id string) (ps []driver.ProcessInfo, err error) {
	err = d.Retry(ctx, func(cl *driver.Client) error { ps, err = cl.Pids(ctx, id); return err })
	return ps, err
}

// Update changes a running container's resources.
func (d *Plugin) Update(ctx context.Context, req *driver.UpdateRequest) error {
	return d.Do(ctx, func(cl *driver.Client) error { return cl.Update(ctx, req) })
}

// Events streams the driver's events from req's cursor to fn until ctx is
// done or fn fails.
func (d *Plugin) Events(ctx context.Context, req *driver.EventsRequest, fn func(*driver.Event) error) error {
	return d.Do(ctx, func(cl *driver.Client) error { return cl.EventsFrom(ctx, req, fn) })
}
