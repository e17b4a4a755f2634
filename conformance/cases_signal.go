package conformance

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/rtd-project/rtd/driver"
)

func signalCases() []Case {
	return []Case{
		{ID: "SIGNAL-001", Level: Must, Clause: "SIGTERM reaches the container's init process", NotFor: unikernelOnly, Run: func(ctx context.Context, s *Session) error {
			c, err := s.runReady(ctx, "s1", opts{probe: []string{"trap-term"}})
			if err != nil {
				return err
			}
			if err := c.kill(ctx, syscall.SIGTERM, false); err != nil {
				return err
			}
			st, out, err := c.output(ctx)
			if err != nil {
				return err
			}
			if st.Code != 0 || !strings.Contains(string(out), "got SIGTERM") {
				return fmt.Errorf("exit %+v output %q, want the handler's \"got SIGTERM\" and exit 0", st, out)
			}
			return nil
		}},
		{ID: "SIGNAL-002", Level: Must, Clause: "A process ignoring SIGTERM survives it; SIGKILL ends it", NotFor: unikernelOnly, Run: func(ctx context.Context, s *Session) error {
			c, err := s.runReady(ctx, "s2", opts{probe: []string{"ignore-term", "60"}})
			if err != nil {
				return err
			}
			if err := c.kill(ctx, syscall.SIGTERM, false); err != nil {
				return err
			}
			time.Sleep(300 * time.Millisecond)
			if err := wantStatus(ctx, c, "running"); err != nil {
				return fmt.Errorf("after an ignored SIGTERM: %w", err)
			}
			if _, err := c.sigkill(ctx); err != nil {
				return err
			}
			return nil
		}},
		{ID: "SIGNAL-003", Level: Must, Clause: "Kill with all reaches every process of the container", NotFor: unikernelOnly, Run: func(ctx context.Context, s *Session) error {
			// The init process catches SIGTERM; its children die of it only
			// if the signal reaches them too.
			c, err := s.run(ctx, "s3", opts{probe: []string{"fork", "4", "survive-term"}})
			if err != nil {
				return err
			}
			if err := c.Stdout.waitFor(ctx, "forked 4"); err != nil {
				return err
			}
			if err := c.kill(ctx, syscall.SIGTERM, true); err != nil {
				return err
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := c.Stdout.waitFor(wctx, "children ended"); err != nil {
				return fmt.Errorf("after kill with all (SIGTERM): %w", err)
			}
			return nil
		}},
		{ID: "SIGNAL-004", Level: Must, Clause: "Kill with an invalid signal number returns InvalidArgument", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "s4", opts{probe: []string{"ready-sleep", "60"}})
			if err != nil {
				return err
			}
			for _, sig := range []uint32{0, 200} {
				err := s.client.Kill(ctx, &driver.KillRequest{ID: c.ID, Signal: sig})
				if err := wantClass(err, "InvalidArgument", fmt.Sprintf("kill with signal %d", sig)); err != nil {
					return err
				}
			}
			return wantStatus(ctx, c, "running")
		}},
	}
}
