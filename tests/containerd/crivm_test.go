//go:build linux

package containerd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// podNetNS returns the path of the pod's network namespace (CRI's, made
// by CNI), from crictl inspectp's runtime spec.
func (d *daemon) podNetNS(pod string) string {
	d.t.Helper()
	r := ok(d.t, d.crictl("inspectp", pod))
	var v struct {
		Info struct {
			RuntimeSpec struct {
				Linux struct {
					Namespaces []struct{ Type, Path string }
				}
			} `json:"runtimeSpec"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		d.t.Fatalf("inspectp: %v: %s", err, r)
	}
	for _, ns := range v.Info.RuntimeSpec.Linux.Namespaces {
		if ns.Type == "network" && ns.Path != "" {
			return ns.Path
		}
	}
	d.t.Fatalf("pod %s has no network namespace path: %s", pod, r)
	return ""
}

// shimRootOf returns the core root of the shim serving pod (its bundle's
// rtd-shim.json names it): the drivers' state, monitors and VMs of the
// pod's containers are under it.
func (d *daemon) shimRootOf(pod string) string {
	d.t.Helper()
	data, err := os.ReadFile(filepath.Join(d.dir, "state", "io.containerd.runtime.v2.task", "k8s.io", pod, "rtd-shim.json"))
	if err != nil {
		d.t.Fatal(err)
	}
	var rec struct{ Root string }
	if err := json.Unmarshal(data, &rec); err != nil || rec.Root == "" {
		d.t.Fatalf("rtd-shim.json of %s: %v: %s", pod, err, data)
	}
	return rec.Root
}

// qemusUnder lists the QEMU processes whose command line names dir.
func qemusUnder(dir string) []string {
	var out []string
	for _, pid := range pids() {
		args := cmdline(pid)
		if len(args) > 0 && strings.Contains(filepath.Base(args[0]), "qemu-system") && strings.Contains(strings.Join(args, " "), dir+"/") {
			out = append(out, strings.Join(args, " "))
		}
	}
	return out
}

// vmPodRunning checks a running rtd-vm pod with two containers (srv, cli)
// besides its pause container: one QEMU process serves the shim's
// containers (the pod's: none of its own for a container), and the
// containers share the pause container's PID namespace (crictl's default
// POD mode): pid 1 is /pause, the client sees the server's httpd.
func (d *daemon) vmPodRunning(t *testing.T, pod, srv, cli string) {
	t.Helper()
	root := d.shimRootOf(pod)
	if qs := qemusUnder(root); len(qs) != 1 || !strings.Contains(qs[0], "/"+pod+"/") {
		t.Errorf("pod %s of 3 containers (pause, %s, %s): want one QEMU process, the pod's, found %d: %q", pod, srv, cli, len(qs), qs)
	}
	for _, id := range []string{srv, cli} {
		if r := d.crictl("exec", "-s", id, "cat", "/proc/1/cmdline"); r.code != 0 || !strings.HasPrefix(r.stdout, "/pause") {
			t.Errorf("%s: pid 1 is not the pod's pause (the pod's PID namespace is not shared): %s", id, r)
		}
	}
	if r := d.crictl("exec", "-s", cli, "ps"); r.code != 0 || !strings.Contains(r.stdout, "httpd") {
		t.Errorf("the pod's client does not see the server's httpd (shared PID namespace): %s", r)
	}
}

// assertPodGone: after rmp nothing of the pod is left: no process naming
// it (QEMU, virtiofsd, monitor), no network namespace file or mount of it,
// and, when root is given, nothing under the shim's root.
func assertPodGone(t *testing.T, pod, netns, root string) {
	t.Helper()
	for _, pid := range pids() {
		if args := strings.Join(cmdline(pid), " "); strings.Contains(args, "/"+pod+"/") {
			t.Errorf("pod %s: process %d left after rmp: %s", pod, pid, args)
		}
	}
	if _, err := os.Stat(netns); err == nil {
		t.Errorf("pod %s: network namespace %s left after rmp", pod, netns)
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(line); len(f) > 4 && (strings.Contains(f[4], pod) || f[4] == netns || (root != "" && strings.HasPrefix(f[4], root))) {
			t.Errorf("pod %s: mount left after rmp: %s", pod, line)
		}
	}
	if root != "" {
		if qs := qemusUnder(root); len(qs) > 0 {
			t.Errorf("pod %s: QEMU left after rmp: %q", pod, qs)
		}
	}
}

// hostNetworkPod runs a hostNetwork pod (CRI's NODE network mode) on
// handler rtd-DRV-sandbox: on linux its container is in the host's network
// namespace (not one the driver made); on vm runp fails naming the host's
// network, which a VM cannot share; nothing is left either way.
func (d *daemon) hostNetworkPod(t *testing.T, drv string) {
	t.Helper()
	name := "hostnet-" + drv
	cfg := podConfig(name)
	cfg["linux"] = map[string]any{"security_context": map[string]any{"namespace_options": map[string]any{"network": 2}}}
	podCfg := d.writeJSON(name+".json", cfg)
	r := d.crictl("runp", "--runtime", "rtd-"+drv+"-sandbox", podCfg)
	if drv == "vm" {
		if r.code == 0 || !strings.Contains(r.stderr, "host's") {
			t.Errorf("a hostNetwork pod on rtd-vm: want runp refused naming the host's network: %s", r)
		}
		if pod := strings.TrimSpace(r.stdout); pod != "" {
			d.crictl("rmp", "-f", pod)
		}
		if r := d.crictl("pods", "-q", "--name", name); strings.TrimSpace(r.stdout) != "" {
			t.Errorf("a refused hostNetwork pod is still listed: %s", r)
		}
		return
	}
	pod := strings.TrimSpace(ok(t, r).stdout)
	ctrCfg := d.writeJSON(name+"-c.json", containerConfig("c", "sleep", "1000"))
	c := strings.TrimSpace(ok(t, d.crictl("create", pod, ctrCfg, podCfg)).stdout)
	ok(t, d.crictl("start", c))
	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	if r := d.crictl("exec", "-s", c, "readlink", "/proc/self/ns/net"); r.code != 0 || strings.TrimSpace(r.stdout) != host {
		t.Errorf("a hostNetwork pod's container is not in the host's network namespace %s: %s", host, r)
	}
	ok(t, d.crictl("stopp", pod))
	ok(t, d.crictl("rmp", pod))
	assertNoShimState(t, pod)
}
