package conformance

import (
	"context"
	"fmt"
	"runtime"

	"github.com/rtd-project/rtd/driver"
)

func infoCases() []Case {
	return []Case{
		{ID: "INFO-001", Level: Must, Clause: "Info returns the driver name, a version, contract version 1 and the host OS/arch", Run: func(ctx context.Context, s *Session) error {
			i, err := s.client.Info(ctx)
			if err != nil {
				return err
			}
			switch {
			case i.Name == "" || i.Version == "":
				return fmt.Errorf("name %q version %q: both must be set", i.Name, i.Version)
			case i.ContractVersion != driver.ContractVersion:
				return fmt.Errorf("contract version %d, want %d", i.ContractVersion, driver.ContractVersion)
			case i.OS != runtime.GOOS || i.Arch != runtime.GOARCH:
				return fmt.Errorf("os/arch %s/%s, want %s/%s", i.OS, i.Arch, runtime.GOOS, runtime.GOARCH)
			}
			return nil
		}},
		{ID: "INFO-002", Level: Must, Clause: "Health is probed: ready, or not ready with a reason a person can act on", Run: func(ctx context.Context, s *Session) error {
			i, err := s.client.Info(ctx)
			if err != nil {
				return err
			}
			if !i.Health.Ready && len(i.Health.Reason) < 8 {
				return fmt.Errorf("not ready without a usable reason (%q)", i.Health.Reason)
			}
			return nil
		}},
		{ID: "INFO-003", Level: Must, Clause: "The isolation descriptor names a known class and fills the facts a reviewer compares", Run: func(ctx context.Context, s *Session) error {
			return s.info.Isolation.Check()
		}},
		{ID: "INFO-004", Level: Must, Clause: "Every optional method the driver does not claim answers NotImplemented at once", Run: func(ctx context.Context, s *Session) error {
			d, c := s.client, s.info.Capabilities
			const id = "rtdconf-unclaimed"
			checks := []struct {
				claimed bool
				name    string
				call    func() error
			}{
				{c.Exec, "Exec", func() error {
					_, err := d.Exec(ctx, &driver.ExecRequest{ID: id, ExecID: "x"})
					return err
				}},
				{c.ResizePty, "ResizePty", func() error { return d.ResizePty(ctx, &driver.ResizePtyRequest{ID: id, Width: 1, Height: 1}) }},
				{c.CloseIO, "CloseIO", func() error { return d.CloseIO(ctx, &driver.CloseIORequest{ID: id}) }},
				{c.Pause, "Pause", func() error { return d.Pause(ctx, id) }},
				{c.Pause, "Resume", func() error { return d.Resume(ctx, id) }},
				{c.Stats, "Stats", func() error { _, err := d.Stats(ctx, id); return err }},
				{c.Update, "Update", func() error { return d.Update(ctx, &driver.UpdateRequest{ID: id}) }},
				{c.Pids, "Pids", func() error { _, err := d.Pids(ctx, id); return err }},
				{c.Checkpoint, "Checkpoint", func() error { return d.Checkpoint(ctx, &driver.CheckpointRequest{ID: id}) }},
			}
			for _, ch := range checks {
				if ch.claimed {
					continue
				}
				if err := wantClass(ch.call(), "NotImplemented", ch.name+" (not claimed)"); err != nil {
					return err
				}
			}
			return unclaimedSandboxes(ctx, s)
		}},
	}
}
