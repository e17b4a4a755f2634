package conformance

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func resourceCases() []Case {
	return []Case{
		{ID: "RES-001", Level: Must, Clause: "A memory limit is enforced and an OOM kill is reported as oom_killed", Run: func(ctx context.Context, s *Session) error {
			limit := int64(64 << 20)
			c, err := s.run(ctx, "r1", opts{probe: []string{"alloc", "512"}, modify: func(sp *specs.Spec) {
				sp.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &limit}}
			}})
			if err != nil {
				return err
			}
			st, out, err := c.output(ctx)
			if err != nil {
				return err
			}
			if strings.Contains(string(out), "allocated") {
				return fmt.Errorf("allocated 512 MiB under a 64 MiB limit")
			}
			if !st.OOMKilled || st.Code != 137 {
				return fmt.Errorf("exit %+v, want code 137 with oom_killed", st)
			}
			return nil
		}},
		{ID: "RES-002", Level: Must, Clause: "A pids limit is enforced, or Create refuses it (InvalidArgument/NotImplemented); it is never ignored", Run: func(ctx context.Context, s *Session) error {
			limit := int64(16)
			c, err := s.run(ctx, "r2", opts{probe: []string{"fork", "40"}, modify: func(sp *specs.Spec) {
				sp.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &limit}}
			}})
			if errdefs.IsInvalidArgument(err) || errdefs.IsNotImplemented(err) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := c.Stdout.waitFor(ctx, "forked"); err != nil {
				return err
			}
			fields := strings.Fields(string(c.Stdout.bytes()))
			n, _ := strconv.Atoi(fields[len(fields)-1])
			if n >= 40 || n == 0 {
				return fmt.Errorf("forked %d children under a pids limit of %d", n, limit)
			}
			return nil
		}},
	}
}
