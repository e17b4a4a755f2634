//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtd-project/rtd/internal/testutil"
)

// gvisorSandboxesUnder lists the gVisor sandbox processes (runsc boot) of
// an rtd root.
func gvisorSandboxesUnder(root string) []int {
	var out []int
	for _, pid := range testutil.Pids() {
		cmd := readProc(pid, "cmdline")
		if strings.HasPrefix(cmd, "runsc-sandbox\x00") && strings.Contains(cmd, root) {
			out = append(out, pid)
		}
	}
	return out
}

// TestPodGvisor: a pod on the gvisor driver is one gVisor sandbox whatever
// the number of its containers (sandbox processes counted), on the pod's
// bridge network: its containers talk over the pod's 127.0.0.1, see its
// hostname, take exec and keep their output; the pod outlives the driver
// processes; pod rm refuses a running container, pod rm -f leaves no
// process, mount, cgroup or state.
func TestPodGvisor(t *testing.T) {
	needRunsc(t)
	e := newEnv(t)
	rfs := rootfs(t)
	pod := uniqueID("gvpod")
	t.Cleanup(func() { e.rtd("pod", "rm", "-f", pod) })
	e.ok("pod", "create", "--name", pod, "--driver", "gvisor")
	if s := gvisorSandboxesUnder(e.root); len(s) != 1 {
		t.Fatalf("gVisor sandboxes of a pod with no container: %v, want 1", s)
	}
	srv, sl := e.podLoopback(pod, rfs)
	if r := e.ok("exec", sl, "cat", "/proc/1/cmdline"); r.code != 0 {
		t.Fatalf("exec in a container of the pod: %s", r)
	}
	if s := gvisorSandboxesUnder(e.root); len(s) != 1 {
		t.Fatalf("gVisor sandboxes of a pod of 3 containers: %v, want 1", s)
	}
	if r := e.ok("wait", srv); strings.TrimSpace(r.stdout) != "0" {
		t.Errorf("wait %s: %q, want 0", srv, r.stdout)
	}
	if r := e.ok("logs", srv); strings.TrimSpace(r.stdout) != "up" {
		t.Errorf("logs of a pod container: %q, want up", r.stdout)
	}
	killDrivers(t, e.root)
	e.podRemove(pod, sl)
	for _, dir := range []string{"sandboxes", "c", "runsc"} {
		if entries, _ := os.ReadDir(filepath.Join(e.root, "drivers", "gvisor", dir)); len(entries) > 0 {
			t.Errorf("gvisor driver state left in %s: %d entries", dir, len(entries))
		}
	}
	assertNoLeaks(t, e, srv)
	assertNoLeaks(t, e, sl)
	assertNoLeaks(t, e, "pod-"+pod)
}
