package conformance

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
)

// wantClass fails unless err has the errdefs class named.
func wantClass(err error, class string, what string) error {
	ok := map[string]func(error) bool{
		"NotFound":           errdefs.IsNotFound,
		"AlreadyExists":      errdefs.IsAlreadyExists,
		"InvalidArgument":    errdefs.IsInvalidArgument,
		"FailedPrecondition": errdefs.IsFailedPrecondition,
		"NotImplemented":     errdefs.IsNotImplemented,
		"Unavailable":        errdefs.IsUnavailable,
	}[class]
	if err == nil {
		return fmt.Errorf("%s: succeeded, want a %s error", what, class)
	}
	if !ok(err) {
		return fmt.Errorf("%s: got %v, want a %s error", what, err, class)
	}
	return nil
}

// wantStatus fails unless the container is in status want.
func wantStatus(ctx context.Context, c *Container, want string) error {
	st, err := c.state(ctx)
	if err != nil {
		return fmt.Errorf("state %s: %w", c.ID, err)
	}
	if string(st.Status) != want {
		return fmt.Errorf("state %s: status %s, want %s", c.ID, st.Status, want)
	}
	return nil
}

// eventually retries f until it succeeds or d passes.
func eventually(ctx context.Context, d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
