package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

func fsCases() []Case {
	return []Case{
		{ID: "FS-001", Level: Must, Clause: "root.readonly makes the root filesystem read-only; without it the root is writable", Run: func(ctx context.Context, s *Session) error {
			r, err := s.report(ctx, "f1", func(sp *specs.Spec) { sp.Root.Readonly = true })
			if err != nil {
				return err
			}
			if !r.RootRO {
				return fmt.Errorf("root.readonly: creating /.probe did not fail with EROFS")
			}
			r, err = s.report(ctx, "f1b", nil)
			if err != nil {
				return err
			}
			if r.RootRO {
				return fmt.Errorf("root is read-only without root.readonly")
			}
			return nil
		}},
		{ID: "FS-002", Level: Must, Clause: "tmpfs and bind mounts from the spec are mounted", Run: func(ctx context.Context, s *Session) error {
			host := filepath.Join(s.work, "bind-src")
			if err := os.MkdirAll(host, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(host, "marker"), []byte("from-the-host"), 0o644); err != nil {
				return err
			}
			mod := func(sp *specs.Spec) {
				sp.Mounts = append(sp.Mounts,
					specs.Mount{Destination: "/mnt/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}},
					specs.Mount{Destination: "/mnt/b", Type: "bind", Source: host, Options: []string{"rbind", "ro"}})
			}
			r, err := s.report(ctx, "f2", mod)
			if err != nil {
				return err
			}
			if s.info.Isolation.Class == driver.IsolationWasm {
				// A module sees no mount table: its tmpfs must be a
				// writable directory of its own.
				c, err := s.run(ctx, "f2t", opts{probe: []string{"touch", "/mnt/t/new"}, modify: mod})
				if err != nil {
					return err
				}
				if _, out, err := c.output(ctx); err != nil || string(out) != "OK\n" {
					return fmt.Errorf("tmpfs at /mnt/t: touch a file: %q %v", out, err)
				}
			} else if _, ok := r.HasMount("/mnt/t", "tmpfs"); !ok {
				return fmt.Errorf("no tmpfs at /mnt/t")
			}
			c, err := s.run(ctx, "f2b", opts{probe: []string{"read", "/mnt/b/marker"}, modify: mod})
			if err != nil {
				return err
			}
			_, out, err := c.output(ctx)
			if err != nil {
				return err
			}
			if string(out) != "from-the-host" {
				return fmt.Errorf("bind mount: read %q", out)
			}
			return nil
		}},
		{ID: "FS-003", Level: Must, Clause: "The hostname from the spec is set", Run: func(ctx context.Context, s *Session) error {
			r, err := s.report(ctx, "f3", func(sp *specs.Spec) { sp.Hostname = "conformance-host" })
			if err != nil {
				return err
			}
			if r.Hostname != "conformance-host" {
				return fmt.Errorf("hostname %q", r.Hostname)
			}
			return nil
		}},
		{ID: "FS-004", Level: Should, Clause: "Masked paths read empty and readonly paths are read-only", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "f4", opts{probe: []string{"read", "/proc/timer_list"}})
			if err != nil {
				return err
			}
			_, out, err := c.output(ctx)
			if err != nil {
				return err
			}
			if len(out) != 0 && !strings.HasPrefix(string(out), "E") {
				return fmt.Errorf("masked /proc/timer_list is readable (%d bytes)", len(out))
			}
			r, err := s.report(ctx, "f4b", nil)
			if err != nil {
				return err
			}
			m, ok := r.HasMount("/proc/sys", "")
			if !ok || !strings.HasPrefix(m.Options, "ro") {
				return fmt.Errorf("/proc/sys is not mounted read-only (%+v)", m)
			}
			return nil
		}},
	}
}
