package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// exitCase runs the probe and expects an exit code.
func exitCase(tag string, want uint32, args ...string) func(context.Context, *Session) error {
	return func(ctx context.Context, s *Session) error {
		start := time.Now()
		c, err := s.run(ctx, tag, opts{probe: args})
		if err != nil {
			return err
		}
		st, err := c.wait(ctx)
		if err != nil {
			return err
		}
		if st.Code != want || st.Signal != 0 {
			return fmt.Errorf("exit %+v, want code %d and no signal", st, want)
		}
		if st.ExitedAt.Before(start.Add(-time.Second)) || st.ExitedAt.After(time.Now().Add(time.Second)) {
			return fmt.Errorf("exited_at %v is outside the run (%v .. now)", st.ExitedAt, start)
		}
		return c.delete(ctx)
	}
}

func exitCases() []Case {
	return []Case{
		{ID: "EXIT-001", Level: Must, Clause: "A process exiting 0 reports code 0, no signal, and exited_at within the run", Run: exitCase("e1", 0, "exit", "0")},
		{ID: "EXIT-002", Level: Must, Clause: "A process exiting 42 reports code 42", Run: exitCase("e2", 42, "exit", "42")},
		{ID: "EXIT-003", Level: Must, Clause: "A missing executable fails Create/Start with NotFound (rtd exits 127, as docker), or the process exits 127", Run: commandCase("e3", "/no/such/binary", errdefs.IsNotFound, "NotFound", 127)},
		{ID: "EXIT-004", Level: Must, Clause: "A process killed by SIGKILL reports code 137 and signal 9", Run: func(ctx context.Context, s *Session) error {
			c, err := s.runReady(ctx, "e4", opts{probe: []string{"ready-sleep", "60"}})
			if err != nil {
				return err
			}
			st, err := c.sigkill(ctx)
			if err != nil {
				return err
			}
			if st.Signal != 9 {
				return fmt.Errorf("exit %+v, want code 137 signal 9", st)
			}
			return c.delete(ctx)
		}},
		{ID: "EXIT-005", Level: Must, Clause: "Wait can be called many times, also long after exit, and returns the same status", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "e5", opts{probe: []string{"exit", "7"}})
			if err != nil {
				return err
			}
			first, err := c.wait(ctx)
			if err != nil {
				return err
			}
			time.Sleep(200 * time.Millisecond)
			for i := 0; i < 3; i++ {
				again, err := c.wait(ctx)
				if err != nil {
					return err
				}
				if again.Code != first.Code || !again.ExitedAt.Equal(first.ExitedAt) {
					return fmt.Errorf("wait #%d returned %+v, first returned %+v", i+2, again, first)
				}
			}
			st, err := c.state(ctx)
			if err != nil {
				return err
			}
			if st.Status != driver.StatusStopped || st.Exit == nil || st.Exit.Code != 7 {
				return fmt.Errorf("state after exit %+v, want stopped with exit 7", st)
			}
			return c.delete(ctx)
		}},
		{ID: "EXIT-006", Level: Should, Clause: "A Wait whose context ends returns at once and leaves the container running", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "e6", opts{probe: []string{"ready-sleep", "60"}})
			if err != nil {
				return err
			}
			wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err = s.client.Wait(wctx, &driver.WaitRequest{ID: c.ID})
			if err == nil {
				return fmt.Errorf("wait returned without error before the process ended")
			}
			if !errors.Is(err, context.DeadlineExceeded) && !errdefs.IsDeadlineExceeded(err) && !errdefs.IsCanceled(err) {
				return fmt.Errorf("wait ended with %v, want a deadline/cancel error", err)
			}
			if time.Since(start) > 3*time.Second {
				return fmt.Errorf("wait took %v to notice its deadline", time.Since(start))
			}
			return wantStatus(ctx, c, "running")
		}},
		{ID: "EXIT-007", Level: Must, Clause: "A command that is a directory fails Create/Start with PermissionDenied (rtd exits 126, as docker), or the process exits 126",
			NotFor: []driver.IsolationClass{driver.IsolationUnikernel}, Run: commandCase("e7", "/etc", errdefs.IsPermissionDenied, "PermissionDenied", 126)},
		{ID: "EXIT-008", Level: Must, Clause: "A command without execute permission fails Create/Start with PermissionDenied (rtd exits 126, as docker), or the process exits 126",
			NotFor: []driver.IsolationClass{driver.IsolationUnikernel}, Run: commandCase("e8", "/"+noExecFile, errdefs.IsPermissionDenied, "PermissionDenied", 126)},
		{ID: "EXIT-009", Level: Must, Clause: "A bundle whose root.path resolves to the host's / is refused by Create with InvalidArgument",
			NotFor: []driver.IsolationClass{driver.IsolationUnikernel}, Run: func(ctx context.Context, s *Session) error {
				_, err := s.create(ctx, "e9", opts{probe: []string{"exit", "0"}, modify: func(sp *specs.Spec) {
					sp.Root.Path = strings.Repeat("../", 20)
				}})
				if err == nil {
					return fmt.Errorf("create of a bundle whose root is the host's / succeeded, want InvalidArgument")
				}
				if !errdefs.IsInvalidArgument(err) {
					return fmt.Errorf("create of a bundle whose root is the host's /: %v, want InvalidArgument", err)
				}
				return nil
			}},
	}
}

// commandCase creates a container whose command is cmd and expects the
// class it names from Create or Start or, when both succeed, exit code.
func commandCase(tag, cmd string, is func(error) bool, class string, code uint32) func(context.Context, *Session) error {
	return func(ctx context.Context, s *Session) error {
		c, err := s.create(ctx, tag, opts{probe: []string{"x"}, modify: func(sp *specs.Spec) { sp.Process.Args = []string{cmd} }})
		if err == nil {
			err = s.client.Start(ctx, c.ID)
			if err == nil {
				st, werr := c.wait(ctx)
				if werr != nil {
					return werr
				}
				if st.Code != code {
					return fmt.Errorf("command %s exited %d, want %d (or %s from Create/Start)", cmd, st.Code, code, class)
				}
				return c.delete(ctx)
			}
		}
		if is(err) {
			return nil
		}
		return fmt.Errorf("command %s: %v, want %s", cmd, err, class)
	}
}
