package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

func lifecycleCases() []Case {
	return []Case{
		{ID: "LIFECYCLE-001", Level: Must, Clause: "Create does not run the workload; Start does", Run: func(ctx context.Context, s *Session) error {
			// It also measures one container's life (without the wait
			// below) for the budgets of the cases with many (budget.go).
			t0 := time.Now()
			c, err := s.create(ctx, "l1", opts{probe: []string{"echo", "started"}})
			if err != nil {
				return err
			}
			if err := wantStatus(ctx, c, "created"); err != nil {
				return err
			}
			created := time.Since(t0)
			time.Sleep(300 * time.Millisecond)
			if out := c.Stdout.bytes(); len(out) > 0 {
				return fmt.Errorf("workload ran before Start: wrote %q", out)
			}
			t1 := time.Now()
			if err := s.client.Start(ctx, c.ID); err != nil {
				return err
			}
			if st, out, err := c.output(ctx); err != nil || st.Code != 0 || string(out) != "started\n" {
				return fmt.Errorf("after start: exit %+v, output %q, err %v", st, out, err)
			}
			if err := c.delete(ctx); err != nil {
				return err
			}
			s.noteLife(created + time.Since(t1))
			return nil
		}},
		{ID: "LIFECYCLE-002", Level: Must, Clause: "A started container is running with a pid, and List shows it", Run: func(ctx context.Context, s *Session) error {
			c, err := s.runReady(ctx, "l2", opts{probe: []string{"ready-sleep", "60"}})
			if err != nil {
				return err
			}
			st, err := c.state(ctx)
			if err != nil {
				return err
			}
			if st.Status != driver.StatusRunning || st.Exit != nil {
				return fmt.Errorf("state %+v, want running without exit", st)
			}
			list, err := s.client.List(ctx)
			if err != nil {
				return err
			}
			for _, l := range list {
				if l.ID == c.ID && l.Status == driver.StatusRunning {
					return nil
				}
			}
			return fmt.Errorf("List does not show %s running", c.ID)
		}},
		{ID: "LIFECYCLE-003", Level: Must, Clause: "Create with an id in use returns AlreadyExists and leaves the existing container untouched", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "l3", opts{probe: []string{"ready-sleep", "60"}})
			if err != nil {
				return err
			}
			_, err = s.create(ctx, "", opts{id: c.ID, probe: []string{"exit", "0"}})
			s.track(c.ID, true)
			if err := wantClass(err, "AlreadyExists", "create duplicate "+c.ID); err != nil {
				return err
			}
			return wantStatus(ctx, c, "running")
		}},
		{ID: "LIFECYCLE-004", Level: Must, Clause: "Delete, State, Start, Kill and Wait of an unknown id return NotFound", Run: func(ctx context.Context, s *Session) error {
			d, id := s.client, "rtdconf-never-created"
			_, err := d.Delete(ctx, &driver.DeleteRequest{ID: id})
			if err := wantClass(err, "NotFound", "delete"); err != nil {
				return err
			}
			_, err = d.State(ctx, id)
			if err := wantClass(err, "NotFound", "state"); err != nil {
				return err
			}
			if err := wantClass(d.Start(ctx, id), "NotFound", "start"); err != nil {
				return err
			}
			if err := wantClass(d.Kill(ctx, &driver.KillRequest{ID: id, Signal: 9}), "NotFound", "kill"); err != nil {
				return err
			}
			_, err = d.Wait(ctx, &driver.WaitRequest{ID: id})
			return wantClass(err, "NotFound", "wait")
		}},
		{ID: "LIFECYCLE-005", Level: Must, Clause: "Start of a running container returns FailedPrecondition and changes nothing", Run: func(ctx context.Context, s *Session) error {
			c, err := s.runReady(ctx, "l5", opts{probe: []string{"ready-sleep", "60"}})
			if err != nil {
				return err
			}
			if err := wantClass(s.client.Start(ctx, c.ID), "FailedPrecondition", "start running"); err != nil {
				return err
			}
			return wantStatus(ctx, c, "running")
		}},
		{ID: "LIFECYCLE-006", Level: Must, Clause: "Delete of a running container without force returns FailedPrecondition and it keeps running", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "l6", opts{probe: []string{"ready-sleep", "60"}})
			if err != nil {
				return err
			}
			_, err = s.client.Delete(ctx, &driver.DeleteRequest{ID: c.ID})
			if err := wantClass(err, "FailedPrecondition", "delete running"); err != nil {
				return err
			}
			return wantStatus(ctx, c, "running")
		}},
		{ID: "LIFECYCLE-007", Level: Must, Clause: "Kill of a stopped container returns FailedPrecondition", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "l7", opts{probe: []string{"exit", "0"}})
			if err != nil {
				return err
			}
			if _, err := c.wait(ctx); err != nil {
				return err
			}
			return wantClass(c.kill(ctx, 15, false), "FailedPrecondition", "kill stopped")
		}},
		{ID: "LIFECYCLE-008", Level: Must, Clause: "Forced Delete of a running container kills it, returns its exit status, and frees the id", Run: func(ctx context.Context, s *Session) error {
			c, err := s.runReady(ctx, "l8", opts{probe: []string{"ready-sleep", "60"}})
			if err != nil {
				return err
			}
			st, err := s.client.Delete(ctx, &driver.DeleteRequest{ID: c.ID, Force: true})
			if err != nil {
				return err
			}
			s.track(c.ID, false)
			if st == nil || st.Code != 137 {
				return fmt.Errorf("forced delete returned %+v, want exit 137", st)
			}
			if _, err := s.client.State(ctx, c.ID); wantClass(err, "NotFound", "state after delete") != nil {
				return wantClass(err, "NotFound", "state after delete")
			}
			c2, err := s.run(ctx, "", opts{id: c.ID, probe: []string{"exit", "3"}})
			if err != nil {
				return fmt.Errorf("id not reusable after delete: %w", err)
			}
			if st, err := c2.wait(ctx); err != nil || st.Code != 3 {
				return fmt.Errorf("reused id: exit %+v %v", st, err)
			}
			return c2.delete(ctx)
		}},
		{ID: "LIFECYCLE-009", Level: Must, Clause: "Invalid ids (path traversal, slashes, empty) return InvalidArgument and create nothing", Run: func(ctx context.Context, s *Session) error {
			before, err := s.client.List(ctx)
			if err != nil {
				return err
			}
			bundle := filepath.Join(s.work, "bundles")
			for _, id := range []string{"../x", "a/b", "", ".hidden", "x\x00y"} {
				_, err := s.client.Create(ctx, &driver.CreateRequest{ID: id, Bundle: bundle})
				if err := wantClass(err, "InvalidArgument", fmt.Sprintf("create id %q", id)); err != nil {
					return err
				}
			}
			after, err := s.client.List(ctx)
			if err != nil {
				return err
			}
			if len(after) != len(before) {
				return fmt.Errorf("List changed from %d to %d containers", len(before), len(after))
			}
			if _, err := os.Stat(filepath.Join(s.work, "x")); err == nil {
				return fmt.Errorf("create of ../x wrote outside the state dir")
			}
			return nil
		}},
		{ID: "LIFECYCLE-010", Level: Must, Clause: "A created, never started container can be killed and deleted, leaving nothing", Run: func(ctx context.Context, s *Session) error {
			c, err := s.create(ctx, "l10", opts{probe: []string{"echo", "never"}})
			if err != nil {
				return err
			}
			if _, err := s.client.Delete(ctx, &driver.DeleteRequest{ID: c.ID, Force: true}); err != nil {
				return fmt.Errorf("forced delete of a created container: %w", err)
			}
			s.track(c.ID, false)
			_, err = s.client.State(ctx, c.ID)
			if err := wantClass(err, "NotFound", "state after delete"); err != nil {
				return err
			}
			if out := c.Stdout.bytes(); len(out) > 0 {
				return fmt.Errorf("the workload ran: %q", out)
			}
			return nil
		}},
		{ID: "LIFECYCLE-011", Level: Must, Clause: "Create with a malformed config.json or a missing rootfs returns InvalidArgument and leaves the id free", Run: func(ctx context.Context, s *Session) error {
			id := s.newID("l11")
			bad := filepath.Join(s.work, "bundles", id)
			if err := os.MkdirAll(bad, 0o700); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(bad, "config.json"), []byte(`{"ociVersion": "1.0.2", "process": {`), 0o600); err != nil {
				return err
			}
			_, err := s.client.Create(ctx, &driver.CreateRequest{ID: id, Bundle: bad})
			if err := wantClass(err, "InvalidArgument", "malformed config.json"); err != nil {
				s.track(id, true)
				return err
			}
			c, err := s.create(ctx, "", opts{id: id, probe: []string{"exit", "0"}, modify: func(sp *specs.Spec) {
				sp.Root.Path = filepath.Join(s.work, "no-such-rootfs")
			}})
			if err == nil {
				return fmt.Errorf("create with a missing rootfs succeeded (%s)", c.ID)
			}
			if err := wantClass(err, "InvalidArgument", "missing rootfs"); err != nil {
				return err
			}
			_, err = s.client.State(ctx, id)
			return wantClass(err, "NotFound", "state after failed creates")
		}},
		{ID: "LIFECYCLE-012", Level: Must, Clause: "Delete of a stopped container returns its exit status; a second Delete returns NotFound", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "l12", opts{probe: []string{"exit", "5"}})
			if err != nil {
				return err
			}
			if _, err := c.wait(ctx); err != nil {
				return err
			}
			st, err := s.client.Delete(ctx, &driver.DeleteRequest{ID: c.ID})
			if err != nil {
				return err
			}
			s.track(c.ID, false)
			if st == nil || st.Code != 5 {
				return fmt.Errorf("delete returned %+v, want exit 5", st)
			}
			_, err = s.client.Delete(ctx, &driver.DeleteRequest{ID: c.ID})
			return wantClass(err, "NotFound", "second delete")
		}},
	}
}
