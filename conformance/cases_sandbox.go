package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/rtd-project/rtd/driver"
)

// Sandboxes (pods): the cases of the capability "sandboxes", for every
// driver that claims it, whatever its class (shared namespaces, one VM,
// one user-space kernel per sandbox).

// newSandbox creates and starts a sandbox with a fresh id; the case's end
// removes it (forced).
func (s *Session) newSandbox(ctx context.Context, tag string) (string, func(), error) {
	id := s.newID(tag)
	if _, err := s.client.CreateSandbox(ctx, &driver.SandboxSpec{ID: id, Hostname: "pod-" + tag}); err != nil {
		return "", nil, fmt.Errorf("create sandbox %s: %w", id, err)
	}
	cleanup := func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.client.ShutdownSandbox(cctx, &driver.ShutdownSandboxRequest{ID: id, Force: true})
	}
	if _, err := s.client.StartSandbox(ctx, id); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("start sandbox %s: %w", id, err)
	}
	return id, cleanup, nil
}

// podServer starts a probe in sandbox sb serving a random token on
// 127.0.0.1:port; it returns the container, the address and the token.
func (s *Session) podServer(ctx context.Context, sb, tag string) (*Container, string, string, error) {
	n, _ := rand.Int(rand.Reader, big.NewInt(20000))
	addr := fmt.Sprintf("127.0.0.1:%d", 20000+n.Int64())
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	token := "pod-" + hex.EncodeToString(b)
	c, err := s.run(ctx, tag, opts{probe: []string{"serve", addr, token}, sandbox: sb})
	if err != nil {
		return nil, "", "", err
	}
	if err := c.Stdout.waitFor(ctx, "listening"); err != nil {
		return nil, "", "", fmt.Errorf("server %s in sandbox %s: %w", c.ID, sb, err)
	}
	return c, addr, token, nil
}

// podDial runs a probe in sandbox sb that dials addr and wants token.
func (s *Session) podDial(ctx context.Context, sb, tag, addr, token string) (*Container, error) {
	c, err := s.run(ctx, tag, opts{probe: []string{"dial", addr}, sandbox: sb})
	if err != nil {
		return nil, err
	}
	st, out, err := c.output(ctx)
	if err != nil {
		return nil, err
	}
	if st.Code != 0 || !strings.Contains(string(out), token) {
		errOut := ""
		if c.Stderr != nil {
			errOut = string(c.Stderr.bytes())
		}
		return nil, fmt.Errorf("a container of sandbox %s did not reach %s in the same sandbox: exit %d, got %q, stderr %q", sb, addr, st.Code, out, errOut)
	}
	return c, nil
}

func sandboxCases() []Case {
	return []Case{
		{ID: "SANDBOX-001", Level: Must, Capability: CapSandboxes,
			Clause: "Containers of one sandbox share its network namespace: one reaches a listener of the other on 127.0.0.1, and the sandbox lists both",
			Run: func(ctx context.Context, s *Session) error {
				sb, cleanup, err := s.newSandbox(ctx, "sb1")
				if err != nil {
					return err
				}
				defer cleanup()
				srv, addr, token, err := s.podServer(ctx, sb, "sb1srv")
				if err != nil {
					return err
				}
				cli, err := s.podDial(ctx, sb, "sb1cli", addr, token)
				if err != nil {
					return err
				}
				st, err := s.client.SandboxStatus(ctx, sb)
				if err != nil {
					return err
				}
				if got := strings.Join(st.Containers, ","); !strings.Contains(got, srv.ID) || !strings.Contains(got, cli.ID) {
					return fmt.Errorf("sandbox %s lists containers %v, want %s and %s", sb, st.Containers, srv.ID, cli.ID)
				}
				if st.Status != driver.StatusRunning {
					return fmt.Errorf("sandbox %s is %s with containers in it, want running", sb, st.Status)
				}
				return nil
			}},
		{ID: "SANDBOX-002", Level: Must, Capability: CapSandboxes,
			Clause: "A sandbox outlives its containers: after they ended it is running and a new container created in it runs",
			Run: func(ctx context.Context, s *Session) error {
				sb, cleanup, err := s.newSandbox(ctx, "sb2")
				if err != nil {
					return err
				}
				defer cleanup()
				c, err := s.run(ctx, "sb2a", opts{probe: []string{"exit", "3"}, sandbox: sb})
				if err != nil {
					return err
				}
				if st, err := c.wait(ctx); err != nil || st.Code != 3 {
					return fmt.Errorf("first container of the sandbox: exit %+v, %v; want 3", st, err)
				}
				if err := c.delete(ctx); err != nil {
					return err
				}
				st, err := s.client.SandboxStatus(ctx, sb)
				if err != nil {
					return err
				}
				if st.Status != driver.StatusRunning || len(st.Containers) != 0 {
					return fmt.Errorf("sandbox after its only container was deleted: %s with %v, want running with none", st.Status, st.Containers)
				}
				srv, addr, token, err := s.podServer(ctx, sb, "sb2srv")
				if err != nil {
					return fmt.Errorf("a new container in the sandbox: %w", err)
				}
				if _, err := s.podDial(ctx, sb, "sb2cli", addr, token); err != nil {
					return err
				}
				_, err = srv.wait(ctx)
				return err
			}},
		{ID: "SANDBOX-003", Level: Must, Capability: CapSandboxes,
			Clause: "ShutdownSandbox with a running container fails with FailedPrecondition and changes nothing; forced, it kills and deletes the containers and leaves nothing (process, mount, cgroup, state)",
			Run: func(ctx context.Context, s *Session) error {
				sb, cleanup, err := s.newSandbox(ctx, "sb3")
				if err != nil {
					return err
				}
				defer cleanup()
				c, err := s.runReady(ctx, "sb3a", opts{probe: []string{"ready-sleep", "60"}, sandbox: sb})
				if err != nil {
					return err
				}
				if err := wantClass(s.client.ShutdownSandbox(ctx, &driver.ShutdownSandboxRequest{ID: sb}), "FailedPrecondition", "shutdown of a sandbox with a running container"); err != nil {
					return err
				}
				if err := wantStatus(ctx, c, "running"); err != nil {
					return fmt.Errorf("after a refused shutdown: %w", err)
				}
				if err := s.client.ShutdownSandbox(ctx, &driver.ShutdownSandboxRequest{ID: sb, Force: true}); err != nil {
					return fmt.Errorf("forced shutdown: %w", err)
				}
				s.track(c.ID, false)
				if _, err := s.client.State(ctx, c.ID); err == nil {
					return fmt.Errorf("container %s still known after its sandbox's forced shutdown", c.ID)
				}
				if err := wantClass(func() error { _, err := s.client.SandboxStatus(ctx, sb); return err }(), "NotFound", "status of a shut down sandbox"); err != nil {
					return err
				}
				if err := wantClass(s.client.ShutdownSandbox(ctx, &driver.ShutdownSandboxRequest{ID: sb}), "NotFound", "second shutdown"); err != nil {
					return err
				}
				return eventually(ctx, 5*time.Second, func() error {
					if left := append(s.leftovers(sb), s.leftovers(c.ID)...); len(left) > 0 {
						return fmt.Errorf("left behind by the shutdown: %s", strings.Join(left, "; "))
					}
					return nil
				})
			}},
		{ID: "SANDBOX-004", Level: Must, Capability: CapSandboxes,
			Clause: "A sandbox survives its driver's death: after a relaunch it is running, its container still serves, and a new container joins it",
			Run: func(ctx context.Context, s *Session) error {
				sb, cleanup, err := s.newSandbox(ctx, "sb4")
				if err != nil {
					return err
				}
				defer cleanup()
				_, addr, token, err := s.podServer(ctx, sb, "sb4srv")
				if err != nil {
					return err
				}
				before, err := s.client.SandboxStatus(ctx, sb)
				if err != nil {
					return err
				}
				if err := s.restartDriver(ctx); err != nil {
					return err
				}
				after, err := s.client.SandboxStatus(ctx, sb)
				if err != nil {
					return fmt.Errorf("sandbox after the driver was killed: %w", err)
				}
				if after.Status != driver.StatusRunning || after.Pid != before.Pid {
					return fmt.Errorf("sandbox after the driver was killed: %s pid %d, want running pid %d", after.Status, after.Pid, before.Pid)
				}
				_, err = s.podDial(ctx, sb, "sb4cli", addr, token)
				return err
			}},
		{ID: "SANDBOX-005", Level: Must, Capability: CapSandboxes,
			Clause: "Bad sandbox requests get typed errors: a second CreateSandbox of an id AlreadyExists, Create in an unknown sandbox NotFound, an invalid id InvalidArgument",
			Run: func(ctx context.Context, s *Session) error {
				sb, cleanup, err := s.newSandbox(ctx, "sb5")
				if err != nil {
					return err
				}
				defer cleanup()
				if err := wantClass(func() error { _, err := s.client.CreateSandbox(ctx, &driver.SandboxSpec{ID: sb}); return err }(), "AlreadyExists", "second create sandbox"); err != nil {
					return err
				}
				_, err = s.create(ctx, "sb5c", opts{probe: []string{"exit", "0"}, sandbox: sb + "-missing"})
				if err := wantClass(err, "NotFound", "create in an unknown sandbox"); err != nil {
					return err
				}
				return wantClass(func() error { _, err := s.client.CreateSandbox(ctx, &driver.SandboxSpec{ID: "../x"}); return err }(), "InvalidArgument", "create sandbox ../x")
			}},
	}
}

// unclaimedSandboxes is INFO-004's part for a driver without sandboxes:
// the sandbox methods answer NotImplemented, and a Create in a sandbox
// FailedPrecondition (never a container outside its pod).
func unclaimedSandboxes(ctx context.Context, s *Session) error {
	if s.info.Capabilities.Sandboxes {
		return nil
	}
	if err := wantClass(func() error {
		_, err := s.client.CreateSandbox(ctx, &driver.SandboxSpec{ID: "rtdconf-unclaimed"})
		return err
	}(), "NotImplemented", "CreateSandbox (not claimed)"); err != nil {
		return err
	}
	if err := wantClass(func() error { _, err := s.client.ListSandboxes(ctx); return err }(), "NotImplemented", "ListSandboxes (not claimed)"); err != nil {
		return err
	}
	_, err := s.client.Create(ctx, &driver.CreateRequest{ID: "rtdconf-unclaimed", Bundle: s.work, SandboxID: "rtdconf-unclaimed"})
	return wantClass(err, "FailedPrecondition", "Create in a sandbox (sandboxes not claimed)")
}
