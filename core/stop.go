package core

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/logfile"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// DefaultStopTimeout is how long stop waits after the stop signal before
// SIGKILL, as docker.
const DefaultStopTimeout = 10 * time.Second

// StopOptions say how Stop ends a container: Signal (0: SIGTERM; the
// caller resolves the record's StopSignal, a name), then SIGKILL after
// Timeout (nil: the record's, else DefaultStopTimeout; 0 kills at once).
type StopOptions struct {
	Signal  uint32
	Timeout *time.Duration
}

// Stop ends a running or paused container as docker stop does: the stop
// signal to its init process, SIGKILL to all of its processes once the
// timeout passes. A container that is not running is left as it is. It
// returns the exit status, nil when the container was not running.
func (c *Core) Stop(ctx context.Context, rec *Record, opts StopOptions) (*driver.ExitStatus, error) {
	d, err := c.DriverOf(rec)
	if err != nil {
		return nil, err
	}
	st, err := d.State(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	if st.Status != driver.StatusRunning && st.Status != driver.StatusPaused {
		return st.Exit, nil
	}
	sig := opts.Signal
	if sig == 0 {
		sig = 15
	}
	timeout := DefaultStopTimeout
	switch {
	case opts.Timeout != nil:
		timeout = *opts.Timeout
	case rec.StopTimeout != nil:
		timeout = *rec.StopTimeout
	}
	if timeout > 0 {
		if err := d.Kill(ctx, &driver.KillRequest{ID: rec.ID, Signal: sig}); err != nil && !errdefs.IsNotFound(err) {
			return nil, fmt.Errorf("stop %s: %w", rec.ID, err)
		}
		if st.Status == driver.StatusPaused {
			// A frozen process handles no signal: thaw it, as docker does.
			_ = d.Resume(ctx, rec.ID)
		}
		wctx, cancel := context.WithTimeout(ctx, timeout)
		exit, err := d.Wait(wctx, &driver.WaitRequest{ID: rec.ID})
		cancel()
		if err == nil {
			return exit, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if err := d.Kill(ctx, &driver.KillRequest{ID: rec.ID, Signal: 9, All: true}); err != nil && !errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("stop %s: kill: %w", rec.ID, err)
	}
	if st.Status == driver.StatusPaused {
		_ = d.Resume(ctx, rec.ID)
	}
	return d.Wait(ctx, &driver.WaitRequest{ID: rec.ID})
}

// Restart stops a container (see Stop) and runs it again from its bundle:
// the driver deletes the old process and creates and starts a new one of
// the same id. Its output goes on to its log (a container that ran
// attached gets one: nobody is attached to the new process).
func (c *Core) Restart(ctx context.Context, rec *Record, opts StopOptions) error {
	if _, err := c.Stop(ctx, rec, opts); err != nil {
		return err
	}
	d, err := c.DriverOf(rec)
	if err != nil {
		return err
	}
	if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: rec.ID}); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("restart %s: %w", rec.ID, err)
	}
	spec, err := ocispec.Load(rec.Bundle)
	if err != nil {
		return fmt.Errorf("restart %s: %w", rec.ID, err)
	}
	if rec.LogPath == "" {
		rec.LogPath = filepath.Join(c.ContainerDir(rec.ID), LogFile)
	}
	if err := logfile.Create(rec.LogPath); err != nil {
		return fmt.Errorf("restart %s: log file: %w", rec.ID, err)
	}
	rec.Detached = true
	if err := c.WriteRecord(rec); err != nil {
		return err
	}
	stdio := driver.Stdio{Stdout: rec.LogPath, Stderr: rec.LogPath, Terminal: spec.Process.Terminal}
	if _, err := d.Create(ctx, &driver.CreateRequest{ID: rec.ID, Bundle: rec.Bundle, Stdio: stdio, Annotations: spec.Annotations, SandboxID: rec.Pod}); err != nil {
		return fmt.Errorf("restart %s: %w", rec.ID, err)
	}
	if err := d.Start(ctx, rec.ID); err != nil {
		var pe ProcessError
		if errors.As(err, &pe) {
			return err
		}
		return fmt.Errorf("restart %s: %w", rec.ID, err)
	}
	return nil
}
