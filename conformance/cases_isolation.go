package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func isolationCases() []Case {
	return []Case{
		{ID: "ISO-001", Level: Must, Clause: "The kernel the workload sees matches the isolation claim (host kernel shared or not, guest kernel named)", Run: func(ctx context.Context, s *Session) error {
			r, err := s.report(ctx, "iso1", nil)
			if err != nil {
				return err
			}
			rel, ver := hostUname()
			iso := s.info.Isolation
			same := r.Kernel == rel && r.KernelVer == ver
			if iso.SharesHostKernel && !same {
				return fmt.Errorf("claims to share the host kernel %s but the workload sees %s %s", rel, r.Kernel, r.KernelVer)
			}
			if !iso.SharesHostKernel && same {
				return fmt.Errorf("claims class %s without the host kernel, but the workload sees the host's kernel %s %s", iso.Class, rel, ver)
			}
			if iso.GuestKernel != "" && !strings.Contains(iso.GuestKernel, r.Kernel) {
				return fmt.Errorf("claims guest kernel %q, the workload sees %q", iso.GuestKernel, r.Kernel)
			}
			return nil
		}},
		{ID: "ISO-002", Level: Must, Clause: "The workload reaches only its root filesystem and mounts: a host file outside them cannot be read, also through ..", Run: func(ctx context.Context, s *Session) error {
			secret := filepath.Join(s.work, "iso-secret")
			if err := os.WriteFile(secret, []byte("host-only"), 0o644); err != nil {
				return err
			}
			for i, p := range []string{secret, "/../../../../../.." + secret} {
				c, err := s.run(ctx, fmt.Sprintf("iso2-%d", i), opts{probe: []string{"read", p}})
				if err != nil {
					return err
				}
				st, out, err := c.output(ctx)
				if err != nil {
					return err
				}
				if st.Code == 0 || strings.Contains(string(out), "host-only") {
					return fmt.Errorf("read %s from the host: exit %d, %q", p, st.Code, truncate(string(out), 100))
				}
			}
			return nil
		}},
	}
}
