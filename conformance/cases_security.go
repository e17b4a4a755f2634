package conformance

import (
	"context"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/containerd/errdefs"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// probeSays runs the probe and returns its trimmed stdout.
func (s *Session) probeSays(ctx context.Context, tag string, modify func(*specs.Spec), args ...string) (string, error) {
	c, err := s.run(ctx, tag, opts{probe: args, modify: modify})
	if err != nil {
		return "", err
	}
	_, out, err := c.output(ctx)
	return strings.TrimSpace(string(out)), err
}

func securityCases() []Case {
	return []Case{
		{ID: "SEC-001", Level: Must, Clause: "With a pid namespace the process is pid 1 and sees no host processes", Run: func(ctx context.Context, s *Session) error {
			r, err := s.report(ctx, "sec1", nil)
			if err != nil {
				return err
			}
			if r.Pid != 1 || r.Procs > 5 {
				return fmt.Errorf("pid %d with %d processes visible, want pid 1 and only the container's", r.Pid, r.Procs)
			}
			return nil
		}},
		{ID: "SEC-002", Level: Must, Clause: "No capability outside the spec's sets is held (default set: docker's 14)", Run: func(ctx context.Context, s *Session) error {
			r, err := s.report(ctx, "sec2", nil)
			if err != nil {
				return err
			}
			allowed := capMask(ocispec.DefaultCapabilities)
			eff, bnd := parseHex(r.CapEff), parseHex(r.CapBnd)
			if r.CapEff == "" || eff&^allowed != 0 || bnd&^allowed != 0 {
				return fmt.Errorf("CapEff %q CapBnd %q hold capabilities outside %016x", r.CapEff, r.CapBnd, allowed)
			}
			return nil
		}},
		{ID: "SEC-003", Level: Must, Clause: "Without CAP_SYS_ADMIN, mount and sethostname fail with EPERM", Run: func(ctx context.Context, s *Session) error {
			for _, sc := range []string{"mount", "sethostname"} {
				got, err := s.probeSays(ctx, "sec3", nil, "syscall", sc)
				if err != nil {
					return err
				}
				if got != "EPERM" {
					return fmt.Errorf("%s inside the container: %q, want EPERM", sc, got)
				}
			}
			return nil
		}},
		{ID: "SEC-004", Level: Must, Clause: "A seccomp profile in the spec is enforced, or Create refuses it; it is never ignored", Run: func(ctx context.Context, s *Session) error {
			mod := func(sp *specs.Spec) {
				sp.Linux.Seccomp = &specs.LinuxSeccomp{
					DefaultAction: specs.ActAllow,
					Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64},
					Syscalls: []specs.LinuxSyscall{{
						Names: []string{"getpriority"}, Action: specs.ActErrno, ErrnoRet: ptr(uint(1)),
					}},
				}
			}
			c, err := s.run(ctx, "sec4", opts{probe: []string{"syscall", "getpriority"}, modify: mod})
			if err != nil {
				if errdefs.IsInvalidArgument(err) || errdefs.IsNotImplemented(err) {
					if strings.HasPrefix(s.info.Isolation.SyscallFilter, "seccomp") {
						return fmt.Errorf("driver describes its syscall filter as %q but refused a profile: %v", s.info.Isolation.SyscallFilter, err)
					}
					return nil
				}
				return err
			}
			_, out, err := c.output(ctx)
			if err != nil {
				return err
			}
			if got := strings.TrimSpace(string(out)); got != "EPERM" {
				return fmt.Errorf("getpriority under a profile denying it: %q, want EPERM", got)
			}
			return nil
		}},
		{ID: "SEC-005", Level: Must, Clause: "On a shared host kernel, the container has its own pid, mount, network, uts and ipc namespaces", Run: func(ctx context.Context, s *Session) error {
			r, err := s.report(ctx, "sec5", nil)
			if err != nil {
				return err
			}
			if !s.info.Isolation.SharesHostKernel {
				return nil // a separate kernel: its namespaces are not the host's by construction (ISO-001)
			}
			for _, ns := range []string{"pid", "mnt", "net", "uts", "ipc"} {
				host, _ := os.Readlink("/proc/self/ns/" + ns)
				if r.Namespaces[ns] == "" || r.Namespaces[ns] == host {
					return fmt.Errorf("%s namespace %q is the host's (%q)", ns, r.Namespaces[ns], host)
				}
			}
			return nil
		}},
	}
}

func ptr[T any](v T) *T { return &v }
