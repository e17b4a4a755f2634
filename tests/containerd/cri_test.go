//go:build linux

package containerd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeJSON writes v as JSON into the daemon's directory and returns the path.
func (d *daemon) writeJSON(name string, v any) string {
	d.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		d.t.Fatal(err)
	}
	p := filepath.Join(d.dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		d.t.Fatal(err)
	}
	return p
}

func podConfig(name string) map[string]any {
	return map[string]any{
		"metadata":      map[string]any{"name": name, "namespace": "rtd-test", "uid": name + "-uid", "attempt": 0},
		"log_directory": "/tmp/rtd-cri-logs/" + name,
		"linux":         map[string]any{},
	}
}

func containerConfig(name string, cmd ...string) map[string]any {
	return map[string]any{
		"metadata": map[string]any{"name": name},
		"image":    map[string]any{"image": busyboxImage},
		"command":  cmd,
		"log_path": name + ".log",
		"linux":    map[string]any{},
	}
}

// podIP reads the pod's IP from crictl inspectp.
func (d *daemon) podIP(pod string) string {
	d.t.Helper()
	r := ok(d.t, d.crictl("inspectp", pod))
	var v struct {
		Status struct {
			Network struct{ IP string } `json:"network"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		d.t.Fatalf("inspectp: %v: %s", err, r)
	}
	return v.Status.Network.IP
}

// waitLogs polls crictl logs until it contains want.
func (d *daemon) waitLogs(id, want string) {
	d.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var r result
	for time.Now().Before(deadline) {
		if r = d.crictl("logs", id); strings.Contains(r.stdout+r.stderr, want) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	d.t.Fatalf("logs of %s never showed %q: %s", id, want, r)
}

// TestCRI drives a pod through containerd's CRI on rtd-linux and
// rtd-gvisor with crictl: runp (an IP from the bridge), create, start,
// logs, exec -s, exec -it, stats and update where the driver measures,
// stop, rm, stopp, rmp; nothing is left.
func TestCRI(t *testing.T) {
	d := startContainerd(t)
	d.importImages()
	os.MkdirAll("/tmp/rtd-cri-logs", 0o755)
	for _, drv := range []string{"linux", "gvisor"} {
		t.Run(drv, func(t *testing.T) {
			d.t = t
			name := "pod-" + drv
			podCfg := d.writeJSON(name+".json", podConfig(name))
			pod := strings.TrimSpace(ok(t, d.crictl("runp", "--runtime", "rtd-"+drv, podCfg)).stdout)
			if ip := d.podIP(pod); !strings.HasPrefix(ip, d.subnet+".") {
				t.Errorf("pod IP %q is not from the bridge's subnet %s.0/24", ip, d.subnet)
			}
			ctrCfg := d.writeJSON(name+"-c1.json", containerConfig("c1", "sh", "-c", "echo hello-from-cri; exec sleep 1000"))
			c1 := strings.TrimSpace(ok(t, d.crictl("create", pod, ctrCfg, podCfg)).stdout)
			ok(t, d.crictl("start", c1))
			d.waitLogs(c1, "hello-from-cri")

			r := d.crictl("exec", "-s", c1, "sh", "-c", "echo exec-sync")
			if r.code != 0 || !strings.HasPrefix(r.stdout, "exec-sync\n") {
				t.Errorf("exec -s: want its output: %s", r)
			}
			// crictl exits 1 and names the command's exit code.
			if r := d.crictl("exec", "-s", c1, "sh", "-c", "exit 7"); !strings.Contains(r.stderr, "exited with 7") {
				t.Errorf("exec -s: want exit code 7 reported: %s", r)
			}
			out, code := d.ttyRun(t, "crictl", "--runtime-endpoint", "unix://"+d.sock, "exec", "-it", c1, "sh", "-c", "test -t 0 && test -t 1 && echo is-a-tty; exit 4")
			if code == 0 || !strings.Contains(out, "is-a-tty") || !strings.Contains(out, "exit code 4") {
				t.Errorf("exec -it: want exit 4 on a terminal, got exit %d: %q", code, out)
			}
			if claims[drv].stats {
				r := ok(t, d.crictl("stats", "-o", "json", c1))
				if !strings.Contains(r.stdout, "workingSetBytes") && !strings.Contains(r.stdout, "usageBytes") {
					t.Errorf("crictl stats shows no memory: %s", r)
				}
			}
			if claims[drv].update {
				ok(t, d.crictl("update", "--memory", "300000000", c1))
			}
			if drv == "linux" {
				d.sharedLocalhost(t, pod, podCfg, false, nil)
			}
			ok(t, d.crictl("stop", "--timeout", "5", c1))
			ok(t, d.crictl("rm", c1))
			ok(t, d.crictl("stopp", pod))
			ok(t, d.crictl("rmp", pod))
			assertNoShimState(t, c1)
			assertNoShimState(t, pod)
		})
	}
}

// sharedLocalhost: two containers of a pod share localhost: one serves on
// 127.0.0.1 in the pod, the other fetches from it; crictl exec reaches
// both (podsandbox mode: the pause container holds the namespaces).
// running, when given, is called with both containers' ids while they
// run.
func (d *daemon) sharedLocalhost(t *testing.T, pod, podCfg string, hostinet bool, running func(srv, cli string)) {
	t.Helper()
	// gVisor's host network stack (runsc --network=host, how the gvisor
	// driver joins a network namespace) fails busybox wget's read of the
	// response with EAGAIN, in a lone container as well: nc serves there.
	serve := "mkdir -p /tmp/www && echo shared-localhost > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:7777 -h /tmp/www"
	fetch := []string{"wget", "-qO-", "http://127.0.0.1:7777/index.html"}
	if hostinet {
		serve = "mkdir -p /tmp/www && echo shared-localhost > /tmp/www/index.html && while true; do nc -l -p 7777 < /tmp/www/index.html; done"
		fetch = []string{"nc", "127.0.0.1", "7777"}
	}
	srvCfg := d.writeJSON("srv.json", containerConfig("srv", "sh", "-c", serve))
	srv := strings.TrimSpace(ok(t, d.crictl("create", pod, srvCfg, podCfg)).stdout)
	ok(t, d.crictl("start", srv))
	cliCfg := d.writeJSON("cli.json", containerConfig("cli", "sleep", "1000"))
	cli := strings.TrimSpace(ok(t, d.crictl("create", pod, cliCfg, podCfg)).stdout)
	ok(t, d.crictl("start", cli))
	// One shim process serves the pod: pause, c1, srv and cli.
	if n := len(d.shims()); n != 1 {
		t.Errorf("want one shim process for the pod's 4 containers, found %d", n)
	}
	var r result
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r = d.crictl(append([]string{"exec", "-s", cli}, fetch...)...)
		if r.code == 0 && strings.Contains(r.stdout, "shared-localhost") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(r.stdout, "shared-localhost") {
		t.Errorf("the pod's second container cannot reach the first on 127.0.0.1: %s", r)
	}
	// crictl exec reaches both containers: the server reaches its own
	// listener; the client does not see the server's files (each keeps
	// its own root filesystem).
	if r := d.crictl(append([]string{"exec", "-s", srv}, fetch...)...); r.code != 0 || !strings.Contains(r.stdout, "shared-localhost") {
		t.Errorf("exec into the serving container of the pod: %s", r)
	}
	if r := d.crictl("exec", "-s", cli, "cat", "/tmp/www/index.html"); r.code == 0 {
		t.Errorf("the pod's containers share their root filesystems: %s", r)
	}
	if running != nil {
		running(srv, cli)
	}
	for _, id := range []string{srv, cli} {
		ok(t, d.crictl("stop", "--timeout", "2", id))
		ok(t, d.crictl("rm", id))
	}
}

// TestCRIPodSandbox: with the runtime option pods = "sandbox" the shim
// makes each CRI pod a driver sandbox (on rtd-linux a holder process with
// the pod's namespaces in CRI's network namespace; on rtd-gvisor one gVisor
// sandbox; on rtd-vm one VM, whose NICs are tapped from CRI's network
// namespace): the pod's resources (its linux.resources, which CRI passes as
// annotations) limit the sandbox's cgroup (size the VM), the pod's two
// containers share 127.0.0.1 (and, on rtd-vm, the pause container's PID
// namespace, crictl's default POD mode), crictl exec reaches both, one
// holder, sandbox or QEMU process serves the pod whatever the number of its
// containers, and stopp/rmp leave nothing (process, VM, network namespace,
// mount, cgroup, shim state). A hostNetwork pod is in the host's network
// namespace on rtd-linux and refused on rtd-vm.
func TestCRIPodSandbox(t *testing.T) {
	d := startContainerd(t)
	d.importImages()
	os.MkdirAll("/tmp/rtd-cri-logs", 0o755)
	const memLimit = 512 << 20
	for _, drv := range []string{"linux", "gvisor", "vm"} {
		t.Run(drv, func(t *testing.T) {
			d.t = t
			// Each driver's pod gets the whole command deadline (a VM
			// pod's containers take seconds each under TCG).
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			d.ctx = ctx
			name := "pod-" + drv + "-sandbox"
			cfg := podConfig(name)
			linux := map[string]any{"resources": map[string]any{
				"memory_limit_in_bytes": memLimit, "cpu_period": 100000, "cpu_quota": 150000,
			}}
			cfg["linux"] = linux
			podCfg := d.writeJSON(name+".json", cfg)
			pod := strings.TrimSpace(ok(t, d.crictl("runp", "--runtime", "rtd-"+drv+"-sandbox", podCfg)).stdout)
			if ip := d.podIP(pod); !strings.HasPrefix(ip, d.subnet+".") {
				t.Errorf("pod IP %q is not from the bridge's subnet %s.0/24", ip, d.subnet)
			}
			netns := d.podNetNS(pod)
			if n := sandboxHolders(pod); n != 1 {
				t.Errorf("pod %s: %d sandbox processes, want one (the pod is one driver sandbox)", pod, n)
			}
			var running func(srv, cli string)
			if drv == "vm" {
				// The pod's memory sizes its VM: the limit plus the
				// driver's 192 MiB for the guest.
				if args := podQemuArgs(pod); !strings.Contains(args, "\x00-m\x00704M\x00") {
					t.Errorf("pod %s: its VM is not sized by the pod's memory (512 MiB + 192): %q", pod, strings.ReplaceAll(args, "\x00", " "))
				}
				running = func(srv, cli string) { d.vmPodRunning(t, pod, srv, cli) }
			} else {
				if got := podCgroupValue(t, pod, "memory", "memory.limit_in_bytes"); got != strconv.Itoa(memLimit) {
					t.Errorf("pod %s: its sandbox's memory limit is %q, want the pod's %d", pod, got, memLimit)
				}
				if got := podCgroupValue(t, pod, "cpu", "cpu.cfs_quota_us"); got != "150000" {
					t.Errorf("pod %s: its sandbox's CPU quota is %q, want the pod's 150000", pod, got)
				}
			}
			root := d.shimRootOf(pod)
			d.sharedLocalhost(t, pod, podCfg, drv == "gvisor", running)
			ok(t, d.crictl("stopp", pod))
			ok(t, d.crictl("rmp", pod))
			assertNoShimState(t, pod)
			if n := sandboxHolders(pod); n != 0 {
				t.Errorf("pod %s: %d sandbox processes left after rmp", pod, n)
			}
			if dir := podCgroup("memory", pod); dir != "" {
				t.Errorf("pod %s: cgroup %s left after rmp", pod, dir)
			}
			assertPodGone(t, pod, netns, root)
			if drv != "gvisor" {
				d.hostNetworkPod(t, drv)
			}
		})
	}
}

// podCgroup finds the cgroup directory of the driver sandbox of pod id
// (both drivers name it pod-ID) in a v1 controller's tree; "" when none.
func podCgroup(controller, id string) string {
	var found string
	root := filepath.Join("/sys/fs/cgroup", controller)
	_ = filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if found != "" {
			return filepath.SkipAll
		}
		if err != nil || !e.IsDir() {
			return nil
		}
		if strings.Count(strings.TrimPrefix(p, root), "/") > 5 {
			return filepath.SkipDir
		}
		if e.Name() == "pod-"+id {
			found = p
			return filepath.SkipDir
		}
		return nil
	})
	return found
}

// podCgroupValue reads file of the pod's sandbox cgroup.
func podCgroupValue(t *testing.T, id, controller, file string) string {
	t.Helper()
	dir := podCgroup(controller, id)
	if dir == "" {
		t.Fatalf("pod %s: no cgroup pod-%s under /sys/fs/cgroup/%s", id, id, controller)
	}
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// sandboxHolders counts the processes holding sandbox id: the linux
// driver's holder, the gvisor driver's sandbox (runsc boot of sandbox+ID),
// the vm driver's QEMU (its console file is in the sandbox's dir).
func sandboxHolders(id string) int {
	n := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		s := string(cmdline)
		if strings.Contains(s, "sandbox-holder\x00"+id+"\x00") ||
			(strings.HasPrefix(s, "runsc-sandbox\x00") && strings.HasSuffix(s, "\x00sandbox+"+id+"\x00")) ||
			isPodQemu(s, id) {
			n++
		}
	}
	return n
}

// isPodQemu reports whether cmdline is the QEMU of vm sandbox id.
func isPodQemu(cmdline, id string) bool {
	return strings.Contains(strings.SplitN(cmdline, "\x00", 2)[0], "qemu-system") && strings.Contains(cmdline, "/"+id+"/")
}

// podQemuArgs returns the command line of vm sandbox id's QEMU, "" when
// none.
func podQemuArgs(id string) string {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if isPodQemu(string(cmdline), id) {
			return string(cmdline)
		}
	}
	return ""
}
