//go:build linux

package containerd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sandboxAPIDrivers are the drivers of the rtd-DRIVER-shim handlers; wasm
// runs no sandboxes.
var sandboxAPIDrivers = append(append([]string{}, rtdHandlers...), "wasm")

// sandboxAPIRuntimes are the CRI runtime handlers rtd-DRIVER-shim of the
// test config: containerd's Sandbox API (sandboxer = "shim"), the shim
// making each pod a driver sandbox with no pause container. The runtime
// type names the driver (containerd-shim-rtd-DRIVER-v2, a link that
// linkDriverShims makes): containerd 2.2 fails to start a container in
// such a pod when the handler has an options table.
func sandboxAPIRuntimes() string {
	var rt strings.Builder
	for _, name := range sandboxAPIDrivers {
		fmt.Fprintf(&rt, `
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.rtd-%[1]s-shim]
      runtime_type = "io.containerd.rtd-%[1]s.v2"
      sandboxer = "shim"
`, name)
	}
	return rt.String()
}

// linkDriverShims links containerd-shim-rtd-DRIVER-v2 to the shim in
// binDir for the drivers of sandboxAPIRuntimes.
func linkDriverShims(t *testing.T) {
	t.Helper()
	for _, name := range sandboxAPIDrivers {
		link := filepath.Join(binDir, "containerd-shim-rtd-"+name+"-v2")
		if err := os.Symlink("containerd-shim-rtd-v2", link); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
}

// TestSandboxAPI drives pods through containerd's Sandbox API
// (sandboxer = "shim") on rtd-linux, rtd-gvisor and rtd-vm with crictl:
// runp makes the pod one driver sandbox in CRI's network namespace (one
// holder, gVisor sandbox or QEMU process, no pause container), its
// containers are created in that sandbox (the driver lists them) with the
// pod's hostname, two of them share 127.0.0.1 and crictl exec reaches
// both, and stopp/rmp leave nothing (process, netns, mount, cgroup, shim
// state). A driver without sandboxes is refused at runp, naming what to
// configure.
func TestSandboxAPI(t *testing.T) {
	d := startContainerd(t)
	linkDriverShims(t)
	d.importImages()
	os.MkdirAll("/tmp/rtd-cri-logs", 0o755)
	for _, drv := range []string{"linux", "gvisor", "vm"} {
		t.Run(drv, func(t *testing.T) { d.sandboxAPIPod(t, drv) })
	}
	t.Run("shim-killed", d.sandboxAPIShimKilled)
	t.Run("no-sandboxes", d.sandboxAPINoSandboxes)
}

// sandboxAPIPod runs a pod on drv's shim sandboxer (TestSandboxAPI).
func (d *daemon) sandboxAPIPod(t *testing.T, drv string) {
	d.t = t
	name := "pod-" + drv + "-shim"
	cfg := podConfig(name)
	cfg["hostname"] = name
	podCfg := d.writeJSON(name+".json", cfg)
	pod := strings.TrimSpace(ok(t, d.crictl("runp", "--runtime", "rtd-"+drv+"-shim", podCfg)).stdout)
	if ip := d.podIP(pod); !strings.HasPrefix(ip, d.subnet+".") {
		t.Errorf("pod IP %q is not from the bridge's subnet %s.0/24", ip, d.subnet)
	}
	if n := sandboxHolders(pod); n != 1 {
		t.Errorf("pod %s: %d sandbox processes, want one (the pod is one driver sandbox)", pod, n)
	}
	// No pause container: containerd knows no container of the pod's id.
	if r := d.ctrNS("k8s.io", "containers", "ls", "-q"); strings.Contains(r.stdout, pod) {
		t.Errorf("containerd has a container for pod %s (a pause container): %s", pod, r)
	}
	info := d.podInfo(pod)
	if info["rtdDriver"] != drv || info["rtdStatus"] != "running" {
		t.Errorf("pod %s: inspectp's info %v, want driver %s and status running", pod, info, drv)
	}
	netns := info["rtdNetNS"]
	if !strings.HasPrefix(netns, "/") {
		t.Fatalf("pod %s: no network namespace in inspectp's info %v", pod, info)
	}
	// The pod's containers are created in the driver's sandbox
	// (still one sandbox process: one QEMU on rtd-vm) and have the
	// pod's hostname.
	c1 := d.startContainer(t, pod, podCfg, "member1", "sleep", "1000")
	c2 := d.startContainer(t, pod, podCfg, "member2", "sleep", "1000")
	got := strings.Split(d.podInfo(pod)["rtdContainers"], ",")
	slices.Sort(got)
	want := []string{c1, c2}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("pod %s: the driver sandbox holds containers %q, want %q", pod, got, want)
	}
	if n := sandboxHolders(pod); n != 1 {
		t.Errorf("pod %s with 2 containers: %d sandbox processes, want one", pod, n)
	}
	if r := d.crictl("exec", "-s", c1, "hostname"); strings.TrimSpace(r.stdout) != name {
		t.Errorf("hostname in the pod: %s, want %s", r, name)
	}
	for _, c := range []string{c1, c2} {
		ok(t, d.crictl("stop", "--timeout", "2", c))
		ok(t, d.crictl("rm", c))
	}
	d.sharedLocalhost(t, pod, podCfg, drv == "gvisor", nil)
	ok(t, d.crictl("stopp", pod))
	if r := ok(t, d.crictl("inspectp", pod)); !strings.Contains(r.stdout, "SANDBOX_NOTREADY") {
		t.Errorf("pod %s after stopp is not NOTREADY: %s", pod, r)
	}
	ok(t, d.crictl("rmp", pod))
	assertNoShimState(t, pod)
	if n := sandboxHolders(pod); n != 0 {
		t.Errorf("pod %s: %d sandbox processes left after rmp", pod, n)
	}
	if dir := podCgroup("memory", pod); dir != "" {
		t.Errorf("pod %s: cgroup %s left after rmp", pod, dir)
	}
	if _, err := os.Stat(netns); !os.IsNotExist(err) {
		t.Errorf("pod %s: network namespace %s left after rmp (%v)", pod, netns, err)
	}
	if mi, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mi), netns+" ") {
		t.Errorf("pod %s: network namespace %s still mounted after rmp", pod, netns)
	}
	if n := len(d.shims()); n != 0 {
		t.Errorf("pod %s: %d shim processes left after rmp", pod, n)
	}
}

// The pod's shim SIGKILLed: containerd's cleanup (`containerd-shim-rtd-v2
// delete` in the pod's bundle) shuts the driver sandbox down with its
// container; the pod is then NOTREADY and rmp leaves nothing.
func (d *daemon) sandboxAPIShimKilled(t *testing.T) {
	d.t = t
	podCfg := d.writeJSON("pod-killed.json", podConfig("pod-killed"))
	pod := strings.TrimSpace(ok(t, d.crictl("runp", "--runtime", "rtd-linux-shim", podCfg)).stdout)
	c := d.startContainer(t, pod, podCfg, "victim", "sleep", "1000")
	shims := d.shims()
	if len(shims) != 1 {
		t.Fatalf("want the pod's one shim process, found %v", shims)
	}
	if err := syscall.Kill(shims[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for sandboxHolders(pod) != 0 || len(leftovers(c)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("pod %s: its sandbox (%d holders) or its container (%v) outlived its killed shim", pod, sandboxHolders(pod), leftovers(c))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := ok(t, d.crictl("inspectp", pod)); !strings.Contains(r.stdout, "SANDBOX_NOTREADY") {
		t.Errorf("pod %s with its shim killed is not NOTREADY: %s", pod, r)
	}
	// containerd learns of the task's end from the killed shim's cleanup
	// asynchronously: until then CRI calls the container running and
	// refuses rm (seen once under the gate's load).
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(d.crictl("inspect", c).stdout, "CONTAINER_EXITED"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("container %s of the pod with its shim killed: CRI does not report it exited: %s", c, d.crictl("inspect", c))
		}
	}
	ok(t, d.crictl("rm", "-f", c))
	ok(t, d.crictl("stopp", pod))
	ok(t, d.crictl("rmp", pod))
	assertNoShimState(t, pod)
	assertNoShimState(t, c)
	if dir := podCgroup("memory", pod); dir != "" {
		t.Errorf("pod %s: cgroup %s left after its shim was killed", pod, dir)
	}
}

// sandboxAPINoSandboxes: a driver without sandboxes is refused at runp.
func (d *daemon) sandboxAPINoSandboxes(t *testing.T) {
	d.t = t
	podCfg := d.writeJSON("pod-wasm-shim.json", podConfig("pod-wasm-shim"))
	r := d.crictl("runp", "--runtime", "rtd-wasm-shim", podCfg)
	if r.code == 0 || !strings.Contains(r.stderr, `does not run sandboxes`) || !strings.Contains(r.stderr, `sandboxer = \"podsandbox\"`) {
		t.Errorf("runp on a driver without sandboxes: want a refusal naming sandboxer = \"podsandbox\": %s", r)
	}
	if r := ok(t, d.crictl("pods", "-q", "--name", "pod-wasm-shim")); strings.TrimSpace(r.stdout) != "" {
		t.Errorf("a refused pod is listed: %s", r)
	}
	if n := len(d.shims()); n != 0 {
		t.Errorf("%d shim processes left after a refused runp", n)
	}
	// The refused pod's shim removed its root (only this test runs the
	// wasm driver in CRI's namespace).
	if roots, _ := filepath.Glob("/run/rtd/containerd/k8s.io-*/drivers/wasm"); len(roots) != 0 {
		t.Errorf("shim roots left after a refused runp: %v", roots)
	}
}

// startContainer creates and starts a container of pod running cmd.
func (d *daemon) startContainer(t *testing.T, pod, podCfg, name string, cmd ...string) string {
	t.Helper()
	cfg := d.writeJSON(name+".json", containerConfig(name, cmd...))
	id := strings.TrimSpace(ok(t, d.crictl("create", pod, cfg, podCfg)).stdout)
	ok(t, d.crictl("start", id))
	return id
}

// podInfo is the shim's verbose sandbox info, which crictl inspectp shows
// beside CRI's status.
func (d *daemon) podInfo(pod string) map[string]string {
	d.t.Helper()
	r := ok(d.t, d.crictl("inspectp", "-o", "json", pod))
	var v map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		d.t.Fatalf("inspectp: %v: %s", err, r)
	}
	out := map[string]string{}
	for k, raw := range v {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out[k] = s
		} else {
			out[k] = string(raw)
		}
	}
	return out
}
