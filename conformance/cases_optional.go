package conformance

import (
	"context"
	"fmt"
	"slices"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

func optionalCases() []Case {
	return []Case{
		{ID: "PAUSE-001", Level: Must, Capability: CapPause, Clause: "Pause freezes every process (state paused, no progress); Resume continues it", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "pa1", opts{probe: []string{"tick"}})
			if err != nil {
				return err
			}
			if err := c.Stdout.waitFor(ctx, "3\n"); err != nil {
				return err
			}
			if err := s.client.Pause(ctx, c.ID); err != nil {
				return err
			}
			if err := wantStatus(ctx, c, "paused"); err != nil {
				return err
			}
			time.Sleep(100 * time.Millisecond)
			n := len(c.Stdout.bytes())
			time.Sleep(400 * time.Millisecond)
			if m := len(c.Stdout.bytes()); m != n {
				return fmt.Errorf("output grew from %d to %d bytes while paused", n, m)
			}
			if err := s.client.Resume(ctx, c.ID); err != nil {
				return err
			}
			if err := wantStatus(ctx, c, "running"); err != nil {
				return err
			}
			return eventually(ctx, 5*time.Second, func() error {
				if len(c.Stdout.bytes()) == n {
					return fmt.Errorf("no output after resume")
				}
				return nil
			})
		}},
		{ID: "STATS-001", Level: Must, Capability: CapStats, Clause: "Stats reports the fields it claims with real values", Run: func(ctx context.Context, s *Session) error {
			limit := int64(128 << 20)
			c, err := s.run(ctx, "st1", opts{probe: []string{"alloc", "16"}, modify: func(sp *specs.Spec) {
				sp.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
			}})
			if err != nil {
				return err
			}
			if err := c.Stdout.waitFor(ctx, "allocated"); err != nil {
				return err
			}
			st, err := s.client.Stats(ctx, c.ID)
			if err != nil {
				return err
			}
			claimed := s.info.Capabilities.StatsFields
			if len(claimed) == 0 {
				return fmt.Errorf("stats claimed without naming its fields")
			}
			for _, f := range claimed {
				if !slices.Contains(st.Fields, f) {
					return fmt.Errorf("claimed field %s missing from Stats.Fields %v", f, st.Fields)
				}
			}
			if slices.Contains(st.Fields, "memory") && (st.MemoryUsageBytes < 16<<20 || st.MemoryLimitBytes != uint64(limit)) {
				return fmt.Errorf("memory usage %d (want >= 16 MiB), limit %d (want %d)", st.MemoryUsageBytes, st.MemoryLimitBytes, limit)
			}
			if slices.Contains(st.Fields, "pids") && st.PidsCurrent < 1 {
				return fmt.Errorf("pids current %d", st.PidsCurrent)
			}
			if slices.Contains(st.Fields, "cpu") && st.CPUUsageNanos == 0 {
				return fmt.Errorf("cpu usage 0 after allocating 16 MiB")
			}
			return nil
		}},
		{ID: "UPDATE-001", Level: Must, Capability: CapUpdate, Clause: "Update changes the limits of a running container", Run: func(ctx context.Context, s *Session) error {
			c, err := s.runReady(ctx, "u1", opts{probe: []string{"ready-sleep", "60"}})
			if err != nil {
				return err
			}
			mem := int64(96 << 20)
			if err := s.client.Update(ctx, &driver.UpdateRequest{ID: c.ID, Resources: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &mem}, Pids: &specs.LinuxPids{Limit: ptr(int64(33))}}}); err != nil {
				return err
			}
			if !s.info.Capabilities.Stats {
				return nil
			}
			st, err := s.client.Stats(ctx, c.ID)
			if err != nil {
				return err
			}
			if slices.Contains(st.Fields, "memory") && st.MemoryLimitBytes != uint64(mem) {
				return fmt.Errorf("memory limit after update %d, want %d", st.MemoryLimitBytes, mem)
			}
			if slices.Contains(st.Fields, "pids") && st.PidsLimit != 33 {
				return fmt.Errorf("pids limit after update %d, want 33", st.PidsLimit)
			}
			return nil
		}},
		{ID: "PIDS-001", Level: Must, Capability: CapPids, Clause: "Pids lists every process of the container", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "pi1", opts{probe: []string{"fork", "3"}})
			if err != nil {
				return err
			}
			if err := c.Stdout.waitFor(ctx, "forked 3"); err != nil {
				return err
			}
			pids, err := s.client.Pids(ctx, c.ID)
			if err != nil {
				return err
			}
			if len(pids) != 4 {
				return fmt.Errorf("pids %v, want 4 (init and 3 children)", pids)
			}
			return nil
		}},
		{ID: "EVENTS-001", Level: Must, Capability: CapEvents, Clause: "Events streams create, start, exit and delete in order", Run: func(ctx context.Context, s *Session) error {
			ectx, cancel := context.WithCancel(ctx)
			defer cancel()
			got := make(chan *driver.Event, 64)
			go s.client.Events(ectx, func(e *driver.Event) error { got <- e; return nil })
			time.Sleep(100 * time.Millisecond)
			c, err := s.run(ctx, "ev1", opts{probe: []string{"exit", "0"}})
			if err != nil {
				return err
			}
			if _, err := c.wait(ctx); err != nil {
				return err
			}
			if err := c.delete(ctx); err != nil {
				return err
			}
			want := []driver.EventType{driver.EventCreate, driver.EventStart, driver.EventExit, driver.EventDelete}
			var seen []driver.EventType
			timeout := time.After(5 * time.Second)
			for len(seen) < len(want) {
				select {
				case e := <-got:
					if e.ID == c.ID {
						seen = append(seen, e.Type)
					}
				case <-timeout:
					return fmt.Errorf("events %v, want %v", seen, want)
				}
			}
			if !slices.Equal(seen, want) {
				return fmt.Errorf("events %v, want %v", seen, want)
			}
			return nil
		}},
	}
}
