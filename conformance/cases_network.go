package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

func networkCases() []Case {
	return []Case{
		{ID: "NET-001", Level: Must, Capability: CapNetworkNamespace,
			Clause: "A spec naming a network namespace by path gives the container that namespace's network: through the namespace's eth0 it reaches a listener on eth0's peer",
			NotFor: []driver.IsolationClass{driver.IsolationWasm},
			Run: func(ctx context.Context, s *Session) error {
				ns, err := newNetNS(filepath.Join(s.work, "netns-net1"))
				if err != nil {
					return fmt.Errorf("make a network namespace: %w", err)
				}
				defer ns.close()
				b := make([]byte, 8)
				_, _ = rand.Read(b)
				token := "joined-" + hex.EncodeToString(b)
				addr, err := ns.serve(token)
				if err != nil {
					return err
				}
				out, err := s.probeSays(ctx, "net1", func(sp *specs.Spec) {
					if sp.Linux == nil {
						sp.Linux = &specs.Linux{}
					}
					found := false
					for i, n := range sp.Linux.Namespaces {
						if n.Type == specs.NetworkNamespace {
							sp.Linux.Namespaces[i].Path = ns.path
							found = true
						}
					}
					if !found {
						sp.Linux.Namespaces = append(sp.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: ns.path})
					}
				}, "dial", addr)
				if err != nil {
					return err
				}
				if !strings.Contains(out, token) {
					return fmt.Errorf("the probe did not reach the listener in the spec's network namespace: it got %q", out)
				}
				return nil
			}},
	}
}

// serveTimeout bounds how long a namespace's listener waits for the probe.
const serveTimeout = 60 * time.Second
