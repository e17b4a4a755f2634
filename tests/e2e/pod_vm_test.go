//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// qemusUnder lists the QEMU processes of an rtd root (their console file
// is under it).
func qemusUnder(root string) []int {
	var out []int
	for _, pid := range procs() {
		cmd := readProc(pid, "cmdline")
		if strings.Contains(strings.SplitN(cmd, "\x00", 2)[0], "qemu-system") && strings.Contains(cmd, root) {
			out = append(out, pid)
		}
	}
	return out
}

// TestPodVM: a pod on the vm driver is one VM whatever the number of its
// containers (QEMU processes counted), they talk over the pod's 127.0.0.1
// and see its hostname; pod rm -f leaves no process, mount or state.
func TestPodVM(t *testing.T) {
	e := newEnv(t)
	e.extraEnv = append(e.extraEnv, vmDriverEnv(t)...)
	rfs := rootfs(t)
	pod := uniqueID("vmpod")
	t.Cleanup(func() { e.rtd("pod", "rm", "-f", pod) })
	e.ok("pod", "create", "--name", pod, "--driver", "vm", "--network", "none")
	if q := qemusUnder(e.root); len(q) != 1 {
		t.Fatalf("QEMU processes of a pod with no container: %v, want 1", q)
	}
	srv := uniqueID("srv")
	e.ok("run", "-d", "--pod", pod, "--name", srv, rfs, "sh", "-c", "echo pong-$(hostname) | nc -l -p 18080")
	sl := uniqueID("sl")
	e.ok("run", "-d", "--pod", pod, "--name", sl, rfs, "sleep", "100")
	r := e.ok("run", "--rm", "--pod", pod, rfs, "sh", "-c",
		"for i in $(seq 100); do nc 127.0.0.1 18080 </dev/null && break; sleep 0.1; done")
	if got := strings.TrimSpace(r.stdout); got != "pong-"+pod {
		t.Fatalf("the third container of the pod read %q, want pong-%s from the first over 127.0.0.1", r.stdout, pod)
	}
	if q := qemusUnder(e.root); len(q) != 1 {
		t.Fatalf("QEMU processes of a pod of 3 containers: %v, want 1", q)
	}
	e.ok("wait", srv)
	if r := e.rtd("pod", "rm", pod); r.code == 0 || !strings.Contains(r.stderr, sl) {
		t.Fatalf("pod rm with a running container: %s; want refused naming it", r)
	}
	e.ok("pod", "rm", "-f", pod)
	if r := e.ok("ps", "-a", "-q"); strings.TrimSpace(r.stdout) != "" {
		t.Errorf("containers left after pod rm -f: %q", r.stdout)
	}
	for _, pid := range procs() {
		if cmd := readProc(pid, "cmdline"); strings.Contains(cmd, e.root) && !strings.Contains(cmd, "rtd-driver") {
			t.Errorf("process %d left: %q", pid, strings.ReplaceAll(cmd, "\x00", " "))
		}
	}
	if mounts := readProc(os.Getpid(), "mountinfo"); strings.Contains(mounts, e.root) {
		t.Errorf("mounts left under %s", e.root)
	}
	if entries, _ := os.ReadDir(filepath.Join(e.root, "drivers", "vm", "sb")); len(entries) > 0 {
		t.Errorf("sandbox state left: %d entries", len(entries))
	}
	assertNoLeaks(t, e, srv)
	assertNoLeaks(t, e, sl)
}
