package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// mountCases check the spec's mounts as `rtd run -v`, `--mount` and
// `--tmpfs` produce them.
func mountCases() []Case {
	return []Case{
		{ID: "FS-005", Level: Must, Clause: "Mounts are honoured read-only: a bind mount and a tmpfs with the ro option refuse writes, and the bind's host directory stays unchanged", Run: func(ctx context.Context, s *Session) error {
			host, err := bindSource(s, "ro-src")
			if err != nil {
				return err
			}
			mod := func(sp *specs.Spec) {
				sp.Mounts = append(sp.Mounts,
					specs.Mount{Destination: "/mnt/ro", Type: "bind", Source: host, Options: []string{"rbind", "ro"}},
					specs.Mount{Destination: "/mnt/rot", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m", "ro"}})
			}
			for i, p := range []string{"/mnt/ro/new", "/mnt/rot/new"} {
				if out, err := s.probeOutput(ctx, fmt.Sprintf("f5%d", i), p, mod); err != nil {
					return err
				} else if out == "OK\n" {
					return fmt.Errorf("created %s on a read-only mount", p)
				}
			}
			if entries, _ := os.ReadDir(host); len(entries) != 1 {
				return fmt.Errorf("the read-only bind's host directory changed: %d entries, want 1", len(entries))
			}
			return nil
		}},
		{ID: "FS-006", Level: Must, Clause: "A bind mount without ro is writable and a file created in it appears in the host directory",
			NotFor:    unikernelOnly,
			NotForWhy: map[driver.IsolationClass]string{driver.IsolationUnikernel: "a unikernel's bind mounts are copies taken at create (a block image)"},
			Run: func(ctx context.Context, s *Session) error {
				host, err := bindSource(s, "rw-src")
				if err != nil {
					return err
				}
				mod := func(sp *specs.Spec) {
					sp.Mounts = append(sp.Mounts, specs.Mount{Destination: "/mnt/rw", Type: "bind", Source: host, Options: []string{"rbind"}})
				}
				out, err := s.probeOutput(ctx, "f6", "/mnt/rw/new", mod)
				if err != nil {
					return err
				}
				if out != "OK\n" {
					return fmt.Errorf("creating /mnt/rw/new on a read-write bind: %q", out)
				}
				if _, err := os.Stat(filepath.Join(host, "new")); err != nil {
					return fmt.Errorf("the file created in the bind is not on the host: %v", err)
				}
				return nil
			}},
	}
}

// bindSource makes a host directory holding one file, "marker".
func bindSource(s *Session, name string) (string, error) {
	host := filepath.Join(s.work, name)
	if err := os.MkdirAll(host, 0o777); err != nil {
		return "", err
	}
	return host, os.WriteFile(filepath.Join(host, "marker"), []byte("from-the-host"), 0o644)
}

// probeOutput runs the probe's touch of path in a container with mod
// applied and returns what it printed ("OK\n", or the errno's name).
func (s *Session) probeOutput(ctx context.Context, name, path string, mod func(*specs.Spec)) (string, error) {
	c, err := s.run(ctx, name, opts{probe: []string{"touch", path}, modify: mod})
	if err != nil {
		return "", err
	}
	_, out, err := c.output(ctx)
	return string(out), err
}
