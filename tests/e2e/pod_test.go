//go:build linux

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtd-project/rtd/internal/testutil"
)

// podHolders lists the processes holding pod name's sandbox.
func podHolders(name string) []int {
	var out []int
	for _, pid := range testutil.Pids() {
		cmd := readProc(pid, "cmdline")
		if strings.Contains(cmd, "sandbox-holder\x00"+name) {
			out = append(out, pid)
		}
	}
	return out
}

// podLoopback runs two containers in pod: srv prints "up" and answers one
// connection on 127.0.0.1:18080 with pong-<its hostname>, sl sleeps. A
// third container (--rm) must read pong-<pod> from srv: the pod's
// containers share its loopback and hostname. It returns srv and sl.
func (e *env) podLoopback(pod, rfs string) (srv, sl string) {
	e.t.Helper()
	srv = uniqueID("srv")
	e.ok("run", "-d", "--pod", pod, "--name", srv, rfs, "sh", "-c", "echo up; echo pong-$(hostname) | nc -l -p 18080")
	sl = uniqueID("sl")
	e.ok("run", "-d", "--pod", pod, "--name", sl, rfs, "sleep", "100")
	r := e.ok("run", "--rm", "--pod", pod, rfs, "sh", "-c",
		"for i in $(seq 100); do nc 127.0.0.1 18080 </dev/null && break; sleep 0.1; done")
	if got := strings.TrimSpace(r.stdout); got != "pong-"+pod {
		e.t.Fatalf("the third container of the pod read %q, want pong-%s from the first over 127.0.0.1", r.stdout, pod)
	}
	return srv, sl
}

// podRemove checks that pod rm refuses pod while its container running
// runs, naming it, and that pod rm -f then leaves no container, no process
// under the root but the drivers' and no mount under it.
func (e *env) podRemove(pod, running string) {
	e.t.Helper()
	if r := e.rtd("pod", "rm", pod); r.code == 0 || !strings.Contains(r.stderr, running) {
		e.t.Fatalf("pod rm with a running container: %s; want refused naming it", r)
	}
	e.ok("pod", "rm", "-f", pod)
	if r := e.ok("ps", "-a", "-q"); strings.TrimSpace(r.stdout) != "" {
		e.t.Errorf("containers left after pod rm -f: %q", r.stdout)
	}
	e.noProcessLeft()
	if mounts := readProc(os.Getpid(), "mountinfo"); strings.Contains(mounts, e.root) {
		e.t.Errorf("mounts left under %s", e.root)
	}
}

// TestPodSharesNetworkAndRemoves: rtd pod create, two containers of the
// pod (rtd run --pod) talk over 127.0.0.1 and see the pod's hostname and
// address, the pod outlives them and every driver process; pod rm refuses
// a running container, pod rm -f leaves nothing (holder, netns, cgroup,
// records, containers).
func TestPodSharesNetworkAndRemoves(t *testing.T) {
	e := newEnv(t)
	rfs := rootfs(t)
	pod := uniqueID("pod")
	t.Cleanup(func() { e.rtd("pod", "rm", "-f", pod) })
	e.ok("pod", "create", "--name", pod)
	var views []struct {
		Name, Status, Network, IP string
		Containers                []string
	}
	if err := json.Unmarshal([]byte(e.ok("pod", "ls", "--format", "json").stdout), &views); err != nil || len(views) != 1 {
		t.Fatalf("pod ls: %v %+v", err, views)
	}
	if v := views[0]; v.Name != pod || v.Status != "running" || v.Network != "bridge" || v.IP == "" {
		t.Fatalf("pod ls = %+v, want %s running on bridge with an address", v, pod)
	}
	srv := uniqueID("srv")
	e.ok("run", "-d", "--pod", pod, "--name", srv, rfs, "sh", "-c", "echo pong-$(hostname) | nc -l -p 18080")
	r := e.ok("run", "--rm", "--pod", pod, rfs, "sh", "-c",
		"for i in $(seq 100); do nc 127.0.0.1 18080 </dev/null && break; sleep 0.1; done; grep -c "+views[0].IP+" /etc/hosts")
	if got := strings.Fields(r.stdout); len(got) != 2 || got[0] != "pong-"+pod || got[1] != "1" {
		t.Fatalf("the second container of the pod read %q, want pong-%s from the first over 127.0.0.1 and the pod's address in /etc/hosts", r.stdout, pod)
	}
	e.ok("wait", srv)
	killDrivers(t, e.root)
	holders := podHolders(pod)
	if len(holders) != 1 {
		t.Fatalf("pod %s: holder processes %v after its containers ended and the drivers were killed, want one", pod, holders)
	}
	sl := uniqueID("sl")
	e.ok("run", "-d", "--pod", pod, "--name", sl, rfs, "sleep", "100")
	if r := e.rtd("pod", "rm", pod); r.code == 0 || !strings.Contains(r.stderr, sl) || !strings.Contains(r.stderr, "running") {
		t.Fatalf("pod rm with a running container: %s; want refused naming it", r)
	}
	if r := e.ok("pod", "inspect", pod); !strings.Contains(r.stdout, sl) || !strings.Contains(r.stdout, srv) {
		t.Fatalf("pod inspect does not list its containers: %s", r.stdout)
	}
	e.ok("pod", "rm", "-f", pod)
	if r := e.ok("pod", "ls", "-q"); strings.TrimSpace(r.stdout) != "" {
		t.Errorf("pod ls after rm -f: %q", r.stdout)
	}
	if r := e.ok("ps", "-a", "-q"); strings.TrimSpace(r.stdout) != "" {
		t.Errorf("containers left after pod rm -f: %q", r.stdout)
	}
	if left := podHolders(pod); len(left) > 0 {
		t.Errorf("holder of %s left: %v", pod, left)
	}
	if _, err := os.Stat(filepath.Join(e.root, "pods", pod)); err == nil {
		t.Errorf("pod directory (netns, network files) of %s left", pod)
	}
	if _, err := os.Stat(filepath.Join(e.root, "drivers", "linux", "sandboxes", pod)); err == nil {
		t.Errorf("driver sandbox state of %s left", pod)
	}
	assertNoLeaks(t, e, srv)
	assertNoLeaks(t, e, sl)
	assertNoLeaks(t, e, "pod-"+pod)
}

// TestPodBadInput: each mistake gets one clear error and leaves nothing.
func TestPodBadInput(t *testing.T) {
	e := newEnv(t)
	rfs := rootfs(t)
	if r := e.rtd("run", "--pod", "nope", rfs, "true"); r.code == 0 || !strings.Contains(r.stderr, "no such pod: nope") {
		t.Errorf("run --pod of an unknown pod: %s", r)
	}
	if r := e.rtd("pod", "create", "--name", "w", "--driver", "wasm"); r.code == 0 || !strings.Contains(r.stderr, "sandboxes capability") || !strings.Contains(r.stderr, "wasm") {
		t.Errorf("pod on a driver without sandboxes: %s; want refused naming the driver and the capability", r)
	}
	pod := uniqueID("podb")
	t.Cleanup(func() { e.rtd("pod", "rm", "-f", pod) })
	e.ok("pod", "create", "--name", pod, "--network", "none")
	if r := e.rtd("pod", "create", "--name", pod); r.code == 0 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("second pod of a name: %s", r)
	}
	if r := e.rtd("run", "--pod", pod, "--network", "host", rfs, "true"); r.code == 0 || !strings.Contains(r.stderr, "shares the pod's network") {
		t.Errorf("run --pod --network host: %s", r)
	}
	if recs := e.records(); len(recs) != 0 {
		t.Errorf("records left by refused runs: %v", recs)
	}
	e.ok("pod", "rm", pod)
	if entries, _ := os.ReadDir(filepath.Join(e.root, "pods")); len(entries) != 0 {
		t.Errorf("pods left: %v", entries)
	}
}
