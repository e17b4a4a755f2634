package sandboxrec

import (
	"context"
	"syscall"
	"time"

	"github.com/rtd-project/rtd/driver"
)

// RefuseRunning returns FailedPrecondition naming the first container of
// members that d does not report stopped: what a shutdown of sandbox id
// without force answers while one of its containers runs.
func RefuseRunning(ctx context.Context, d driver.Driver, id string, members []string) error {
	for _, c := range members {
		if st, err := d.State(ctx, c); err == nil && st.Status != driver.StatusStopped {
			return driver.FailedPreconditionf("shutdown sandbox %s: container %s is %s; stop it (or the sandbox) first, or force", id, c, st.Status)
		}
	}
	return nil
}

// StopMembers sends SIGTERM to every running container of members and
// SIGKILL to those still running after timeout, waiting up to timeout
// after each signal.
func StopMembers(ctx context.Context, d driver.Driver, members []string, timeout time.Duration) error {
	for _, sig := range []uint32{uint32(syscall.SIGTERM), uint32(syscall.SIGKILL)} {
		for _, c := range members {
			if st, err := d.State(ctx, c); err == nil && st.Status != driver.StatusStopped {
				_ = d.Kill(ctx, &driver.KillRequest{ID: c, Signal: sig, All: true})
			}
		}
		wctx, cancel := context.WithTimeout(ctx, timeout)
		for _, c := range members {
			_, _ = d.Wait(wctx, &driver.WaitRequest{ID: c})
		}
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}
