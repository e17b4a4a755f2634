//go:build linux

package e2e

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtd-project/rtd/internal/testutil"
)

// qemusUnder lists the QEMU processes of an rtd root (their console file
// is under it).
func qemusUnder(root string) []int {
	var out []int
	for _, pid := range testutil.Pids() {
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
	srv, sl := e.podLoopback(pod, rfs)
	if q := qemusUnder(e.root); len(q) != 1 {
		t.Fatalf("QEMU processes of a pod of 3 containers: %v, want 1", q)
	}
	e.ok("wait", srv)
	e.podRemove(pod, sl)
	if entries, _ := os.ReadDir(filepath.Join(e.root, "drivers", "vm", "sb")); len(entries) > 0 {
		t.Errorf("sandbox state left: %d entries", len(entries))
	}
	assertNoLeaks(t, e, srv)
	assertNoLeaks(t, e, sl)
}

// TestPodVMNetwork: a pod on the vm driver on a user network is reachable
// at the pod's address from the host's network namespace (the VM's NIC is
// a tap in the pod's namespace, tc-redirected to its CNI interface); the
// pod's containers serve and reach each other there.
func TestPodVMNetwork(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.extraEnv = append(e.extraEnv, vmDriverEnv(t)...)
	name, _, subnet := e.userNetwork()
	body := "hello from a vm pod"
	fs := webRootfs(t, body)
	pod := uniqueID("vmnpod")
	t.Cleanup(func() { e.rtd("pod", "rm", "-f", pod) })
	e.ok("pod", "create", "--name", pod, "--driver", "vm", "--network", name)
	var views []struct{ Name, IP string }
	if err := json.Unmarshal([]byte(e.ok("pod", "ls", "--format", "json").stdout), &views); err != nil || len(views) != 1 {
		t.Fatalf("pod ls: %v %+v", err, views)
	}
	ip := views[0].IP
	_, sn, _ := net.ParseCIDR(subnet)
	if ip == "" || !sn.Contains(net.ParseIP(ip)) {
		t.Fatalf("pod %s has address %q, want one in %s", pod, ip, subnet)
	}
	web := uniqueID("web")
	e.ok("run", "-d", "--pod", pod, "--name", web, fs, "httpd", "-f", "-p", "80", "-h", "/www")
	waitHTTP(t, "http://"+ip+"/", time.Minute)
	if got := httpGet(t, "http://"+ip+"/"); got != body {
		t.Errorf("the pod's address answered %q, want %q", got, body)
	}
	r := e.ok("run", "--rm", "--pod", pod, fs, "wget", "-qO-", "http://"+ip+"/")
	if strings.TrimSpace(r.stdout) != body {
		t.Errorf("a second container of the pod read %q from the pod's address, want %q", r.stdout, body)
	}
	e.ok("pod", "rm", "-f", pod)
	e.noProcessLeft()
	assertNoLeaks(t, e, web)
}
