package conformance

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// capMask is the bitmask of /proc/PID/status for capability names.
func capMask(names []string) uint64 {
	bits := map[string]uint{
		"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3, "CAP_FSETID": 4,
		"CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_LINUX_IMMUTABLE": 9,
		"CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13,
		"CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15, "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17,
		"CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19, "CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21,
		"CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23, "CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25,
		"CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27, "CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29,
		"CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
	}
	var m uint64
	for _, n := range names {
		m |= 1 << bits[n]
	}
	return m
}

func parseHex(s string) uint64 {
	v, _ := strconv.ParseUint(s, 16, 64)
	return v
}

func processCases() []Case {
	return []Case{
		{ID: "PROC-001", Level: Must, Clause: "process.args and process.env reach the process", Run: func(ctx context.Context, s *Session) error {
			r, err := s.report(ctx, "p1", func(sp *specs.Spec) { sp.Process.Env = append(sp.Process.Env, "RTD_CONF=yes it works") })
			if err != nil {
				return err
			}
			if !slices.Contains(r.Env, "RTD_CONF=yes it works") {
				return fmt.Errorf("env %v lacks RTD_CONF", r.Env)
			}
			return nil
		}},
		{ID: "PROC-002", Level: Must, Clause: "process.cwd is the working directory", Run: func(ctx context.Context, s *Session) error {
			r, err := s.report(ctx, "p2", func(sp *specs.Spec) { sp.Process.Cwd = "/tmp" })
			if err != nil {
				return err
			}
			if r.Cwd != "/tmp" {
				return fmt.Errorf("cwd %q, want /tmp", r.Cwd)
			}
			return nil
		}},
		{ID: "PROC-003", Level: Must, Clause: "process.user uid, gid and additionalGids apply", Run: func(ctx context.Context, s *Session) error {
			r, err := s.report(ctx, "p3", func(sp *specs.Spec) {
				sp.Process.User = specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{2000}}
			})
			if err != nil {
				return err
			}
			if r.UID != 1000 || r.GID != 1001 || !slices.Contains(r.Groups, 2000) {
				return fmt.Errorf("uid %d gid %d groups %v, want 1000 1001 [2000]", r.UID, r.GID, r.Groups)
			}
			return nil
		}},
		{ID: "PROC-004", Level: Must, Clause: "process.rlimits apply", Run: func(ctx context.Context, s *Session) error {
			r, err := s.report(ctx, "p4", func(sp *specs.Spec) {
				// Not NOFILE: the Go runtime of the probe raises its soft limit.
				sp.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_CORE", Soft: 4096, Hard: 8192}}
			})
			if err != nil {
				return err
			}
			if got := r.Rlimits["CORE"]; got != [2]uint64{4096, 8192} {
				return fmt.Errorf("RLIMIT_CORE %v, want [4096 8192]", got)
			}
			return nil
		}},
		{ID: "PROC-005", Level: Must, Clause: "process.noNewPrivileges sets no_new_privs", Run: func(ctx context.Context, s *Session) error {
			r, err := s.report(ctx, "p5", func(sp *specs.Spec) { sp.Process.NoNewPrivileges = true })
			if err != nil {
				return err
			}
			if r.NoNewPrivs != "1" {
				return fmt.Errorf("NoNewPrivs %q, want 1", r.NoNewPrivs)
			}
			return nil
		}},
		{ID: "PROC-006", Level: Must, Clause: "process.capabilities are exactly the effective and bounding sets", Run: func(ctx context.Context, s *Session) error {
			caps := []string{"CAP_CHOWN", "CAP_KILL"}
			r, err := s.report(ctx, "p6", func(sp *specs.Spec) {
				sp.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
			})
			if err != nil {
				return err
			}
			want := capMask(caps)
			if parseHex(r.CapEff) != want || parseHex(r.CapBnd) != want {
				return fmt.Errorf("CapEff %s CapBnd %s, want %x", r.CapEff, r.CapBnd, want)
			}
			return nil
		}},
	}
}
