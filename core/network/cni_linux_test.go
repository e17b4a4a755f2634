//go:build linux

package network

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
)

// countingExec runs the CNI plugins as libcni does and counts the runs of
// each plugin and command ("host-local DEL").
type countingExec struct {
	invoke.Exec
	mu   sync.Mutex
	runs map[string]int
}

func (c *countingExec) ExecPlugin(ctx context.Context, path string, stdin []byte, environ []string) ([]byte, error) {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "CNI_COMMAND="); ok {
			c.mu.Lock()
			c.runs[filepath.Base(path)+" "+v]++
			c.mu.Unlock()
		}
	}
	return c.Exec.ExecPlugin(ctx, path, stdin, environ)
}

// TestAttachDetachLeavesNothing attaches namespaces to a network of the
// test's own through the real plugins and checks that Detach leaves no
// veth on the bridge, no address lease, no libcni cache entry and no
// namespace; that a container without ports is released by one plugin
// process (host-local's DEL: bridge's DEL, which would start host-local
// itself, is not run), and one with a published port by the whole list's
// DEL; and that Detach after the namespace is gone still frees the lease.
func TestAttachDetachLeavesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces, bridges)")
	}
	if err := CheckPlugins(); err != nil {
		t.Skip(err)
	}
	root := t.TempDir()
	s := NewStore(root)
	bridge := fmt.Sprintf("rtdcu%d", os.Getpid()%100000)
	n, err := s.Create(CreateOptions{Name: "unit", Bridge: bridge, Subnet: fmt.Sprintf("10.251.%d.0/24", 40+os.Getpid()%200)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Remove("unit"); err != nil {
			t.Errorf("network rm: %v", err)
		}
	})
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		ports    []Port
		goneNS   bool
		wantDels map[string]int
	}{
		{name: "no ports", wantDels: map[string]int{"host-local DEL": 1}},
		{name: "namespace gone", goneNS: true, wantDels: map[string]int{"host-local DEL": 1}},
		{name: "published port", ports: []Port{{HostIP: "127.0.0.1", HostPort: freeTCPPort(t), ContainerPort: 80, Protocol: "tcp"}},
			wantDels: map[string]int{"portmap DEL": 1, "bridge DEL": 1}}, // bridge runs host-local itself
	} {
		t.Run(tc.name, func(t *testing.T) {
			ce := &countingExec{Exec: &invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: os.Stderr}}, runs: map[string]int{}}
			a := NewAttachment(s, n, root+"\x00"+tc.name, filepath.Join(root, "ns-"+strings.ReplaceAll(tc.name, " ", "-")), tc.ports)
			if err := Attach(ctx, a, ce); err != nil {
				t.Fatal(err)
			}
			if veths, _ := os.ReadDir("/sys/class/net/" + bridge + "/brif"); len(veths) != 1 {
				t.Errorf("after Attach, veths on %s: %v, want one", bridge, veths)
			}
			if tc.goneNS {
				// A creator killed between unmounting the namespace and
				// releasing the address: the veth went with the namespace.
				if err := RemoveNS(a.NetNS); err != nil {
					t.Fatal(err)
				}
			}
			ce.runs = map[string]int{}
			if err := Detach(ctx, a, ce); err != nil {
				t.Fatal(err)
			}
			dels := map[string]int{}
			for k, v := range ce.runs {
				dels[k] = v
			}
			if fmt.Sprint(dels) != fmt.Sprint(tc.wantDels) {
				t.Errorf("plugin runs at Detach: %v, want %v", dels, tc.wantDels)
			}
			// The veth goes when Detach deletes it, or with its namespace:
			// the kernel destroys an unused one in the background.
			wait := time.Duration(0)
			if tc.goneNS {
				wait = 20 * time.Second
			}
			waitNoVeths(t, bridge, wait)
			leases, _ := filepath.Glob(filepath.Join(s.Dir(), "ipam", n.CNIName(), "10.*"))
			if len(leases) > 0 {
				t.Errorf("address leases left: %v", leases)
			}
			cached, _ := filepath.Glob(filepath.Join(a.CacheDir, "results", "*"+a.ContainerID+"*"))
			if len(cached) > 0 {
				t.Errorf("libcni cache entries left: %v", cached)
			}
			if _, err := os.Stat(a.NetNS); err == nil {
				t.Errorf("namespace %s left", a.NetNS)
			}
			// Detach is idempotent: a second removal path finds nothing.
			if err := Detach(ctx, a, nil); err != nil {
				t.Errorf("second Detach: %v", err)
			}
		})
	}
}

// freeTCPPort returns a port of 127.0.0.1 nothing listens on now.
func freeTCPPort(t *testing.T) int {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitNoVeths fails t when bridge still has a port after wait.
func waitNoVeths(t *testing.T, bridge string, wait time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(wait); ; time.Sleep(50 * time.Millisecond) {
		veths, _ := os.ReadDir("/sys/class/net/" + bridge + "/brif")
		if len(veths) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("veths left on %s: %v", bridge, veths)
			return
		}
	}
}
