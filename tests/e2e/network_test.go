//go:build linux

package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var netSeq atomic.Int32

// userNetwork creates a network of the test's own: a bridge name and a /24
// no other test (of this or another run) uses, removed at the end with a
// check that nothing of it is left on the host.
func (e *env) userNetwork() (name, bridge, subnet string) {
	e.t.Helper()
	n := int(netSeq.Add(1))
	tag := fmt.Sprintf("%d%d", os.Getpid()%100000, n)
	name, bridge = "net"+tag, "rtdt"+tag
	subnet = fmt.Sprintf("10.%d.%d.0/24", 160+(os.Getpid()/256)%64, (os.Getpid()+n*37)%256)
	e.ok("network", "create", "--bridge", bridge, "--subnet", subnet, name)
	e.t.Cleanup(func() {
		// A test that failed half-way leaves containers: remove them
		// first, or the network is still in use.
		for _, id := range e.records() {
			e.rtd("rm", "-f", id)
		}
		if r := e.rtd("network", "rm", name); r.code != 0 {
			e.t.Errorf("network rm: %s", r)
		}
		if _, err := os.Stat("/sys/class/net/" + bridge); err == nil {
			e.t.Errorf("bridge %s left after network rm", bridge)
			exec.Command("ip", "link", "del", bridge).Run()
		}
		if rules := iptablesLines(subnet); len(rules) > 0 {
			e.t.Errorf("iptables rules of %s left after network rm: %q", subnet, rules)
		}
	})
	return name, bridge, subnet
}

// iptablesLines returns the lines of iptables-save that mention s.
func iptablesLines(s string) []string {
	out, _ := exec.Command("iptables-save").Output()
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, s) {
			lines = append(lines, l)
		}
	}
	return lines
}

// freePort returns a TCP port nothing listens on now.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// noNetworkLeft checks that the containers' network is gone: no record,
// no veth on the bridge, no address lease, no iptables rule naming the
// published port or a container's address.
func (e *env) noNetworkLeft(bridge string, ports []int, ips []string) {
	e.t.Helper()
	if recs := e.records(); len(recs) > 0 {
		e.t.Errorf("records left: %v", recs)
	}
	if ifs, _ := os.ReadDir("/sys/class/net/" + bridge + "/brif"); bridge != bridgeOfDefault && len(ifs) > 0 {
		e.t.Errorf("veths left on %s: %v", bridge, ifs)
	}
	leases, _ := filepath.Glob(filepath.Join(e.root, "networks", "ipam", "*", "1*"))
	if len(leases) > 0 {
		e.t.Errorf("address leases left: %v", leases)
	}
	for _, p := range ports {
		if l := iptablesLines("--dport " + strconv.Itoa(p)); len(l) > 0 {
			e.t.Errorf("iptables rules for port %d left: %q", p, l)
		}
	}
	for _, ip := range ips {
		if l := iptablesLines(ip + "/32"); len(l) > 0 {
			e.t.Errorf("iptables rules for %s left: %q", ip, l)
		}
	}
	if mi, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mi), e.root) {
		e.t.Errorf("mounts under %s left", e.root)
	}
}

// runWeb runs an httpd container of fs (serving body; its name starts with
// prefix) on driver, on network name with a port published on 127.0.0.1.
// The port must answer body; the container's address, found in its
// /etc/hosts, must be in subnet and answer body too. It returns the
// container, the port and the address.
func (e *env) runWeb(driver, prefix, name, subnet, fs, body string) (web string, port int, ip string) {
	e.t.Helper()
	port = freePort(e.t)
	web = uniqueID(prefix)
	e.ok("run", "-d", "--driver", driver, "--name", web, "--network", name, "-p", fmt.Sprintf("127.0.0.1:%d:80", port),
		fs, "httpd", "-f", "-p", "80", "-h", "/www")
	if got := httpGet(e.t, fmt.Sprintf("http://127.0.0.1:%d/", port)); got != body {
		e.t.Errorf("published port answered %q, want %q", got, body)
	}
	hosts := e.ok("exec", web, "cat", "/etc/hosts").stdout
	for _, l := range strings.Split(hosts, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[1] == web[:12] {
			ip = f[0]
		}
	}
	if _, sn, _ := net.ParseCIDR(subnet); ip == "" || !sn.Contains(net.ParseIP(ip)) {
		e.t.Fatalf("/etc/hosts has no address in %s for hostname %s:\n%s", subnet, web[:12], hosts)
	}
	if got := httpGet(e.t, "http://"+ip+"/"); got != body {
		e.t.Errorf("the container's address answered %q, want %q", got, body)
	}
	return web, port, ip
}

// webRootfs is a busybox root filesystem with /www/index.html saying body.
func webRootfs(t *testing.T, body string) string {
	dir := rootfs(t)
	if err := os.MkdirAll(filepath.Join(dir, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "www", "index.html"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// httpGet fetches url, retrying while the server comes up.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	var last error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := c.Get(url)
		if err != nil {
			last = err
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			return string(b)
		}
		last = err
	}
	t.Fatalf("GET %s: %v", url, last)
	return ""
}

// TestNetworkPublishAndNames: on a user network, a published port answers
// on 127.0.0.1, the container's address answers from the host, a second
// container reaches the first by name, each has its /etc/hosts,
// /etc/resolv.conf and hostname; after rm and network rm nothing is left.
func TestNetworkPublishAndNames(t *testing.T) {
	for _, drv := range []string{"linux", "gvisor"} {
		t.Run(drv, func(t *testing.T) {
			if drv == "gvisor" {
				needRunsc(t)
			}
			t.Parallel()
			e := newEnv(t)
			name, bridge, subnet := e.userNetwork()
			body := "hello from " + drv
			fs := webRootfs(t, body)
			web, port, ip := e.runWeb(drv, "web", name, subnet, fs, body)
			client := uniqueID("cli")
			if got := strings.TrimSpace(e.ok("exec", web, "cat", "/etc/hostname").stdout); got != web[:12] {
				t.Errorf("/etc/hostname = %q, want %q", got, web[:12])
			}
			if rc := e.ok("exec", web, "cat", "/etc/resolv.conf").stdout; strings.Contains(rc, "nameserver 127.") {
				t.Errorf("resolv.conf names a loopback nameserver the container cannot reach:\n%s", rc)
			}
			// By name, both ways: the client's /etc/hosts lists web, and
			// web's (rewritten in place) lists the client.
			e.ok("run", "-d", "--name", client, "--network", name, fs, "sleep", "100")
			req := `printf 'GET / HTTP/1.0\r\n\r\n' | nc ` + web + ` 80`
			if out := e.ok("exec", client, "sh", "-c", req).stdout; !strings.Contains(out, body) {
				t.Errorf("%s by name from %s: %q, want it to contain %q", web, client, out, body)
			}
			if hosts := e.ok("exec", web, "cat", "/etc/hosts").stdout; !strings.Contains(hosts, client) {
				t.Errorf("%s's /etc/hosts does not list %s, which joined after it:\n%s", web, client, hosts)
			}
			e.ok("rm", "-f", client)
			if hosts := e.ok("exec", web, "cat", "/etc/hosts").stdout; strings.Contains(hosts, client) {
				t.Errorf("%s's /etc/hosts still lists %s after its rm:\n%s", web, client, hosts)
			}
			e.ok("rm", "-f", web)
			e.noNetworkLeft(bridge, []int{port}, []string{ip})
		})
	}
}

// TestNetworkModes: the default for a root filesystem is the builtin bridge
// network (an eth0 with an address in its range), none has only loopback,
// host shares the host's network namespace.
func TestNetworkModes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fs := rootfs(t)
	out := e.ok("run", "--rm", fs, "sh", "-c", "ip -o -4 addr show eth0; ip route").stdout
	if !strings.Contains(out, " 10.66.") || !strings.Contains(out, "default via 10.66.0.1") {
		t.Errorf("default network: want eth0 in 10.66.0.0/16 and a default route through the bridge, got:\n%s", out)
	}
	out = e.ok("run", "--rm", "--network", "none", fs, "ls", "/sys/class/net").stdout
	if strings.Fields(out)[0] != "lo" || len(strings.Fields(out)) != 1 {
		t.Errorf("--network none: interfaces %q, want only lo", out)
	}
	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	// The container's /proc is its own: ask from the host which network
	// namespace the container's process is in.
	id := uniqueID("hostnet")
	e.ok("run", "-d", "--name", id, "--network", "host", fs, "sleep", "100")
	m := regexp.MustCompile(`"pid": (\d+)`).FindStringSubmatch(e.ok("inspect", id).stdout)
	if m == nil {
		t.Fatalf("no pid in rtd inspect %s", id)
	}
	pid := m[1]
	if got, _ := os.Readlink("/proc/" + pid + "/ns/net"); got != host {
		t.Errorf("--network host: the container's network namespace is %q, the host's %q", got, host)
	}
	e.ok("rm", "-f", id)
	e.noNetworkLeft(bridgeOfDefault, nil, nil)
}

// bridgeOfDefault is the builtin network's bridge; its veths of other
// tests' containers may come and go, so leak checks name it only where no
// other container of the test is on it.
const bridgeOfDefault = "-"

// TestNetworkBadInput: a port already taken, an unknown network and
// conflicting flags each fail with one line and exit 125, leaving no
// record, namespace, veth, lease or iptables rule.
func TestNetworkBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	name, bridge, _ := e.userNetwork()
	fs := rootfs(t)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	free := freePort(t)
	id := uniqueID("busy")
	e.ok("run", "-d", "--name", id, "--network", name, "-p", fmt.Sprintf("127.0.0.1:%d:80", free), fs, "sleep", "100")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--network", name, "-p", fmt.Sprintf("127.0.0.1:%d:80", taken)}, "already in use"},
		{[]string{"--network", name, "-p", fmt.Sprintf("%d:80", free)}, "already published"},
		{[]string{"--network", "no-such-net"}, `network "no-such-net" not found`},
		{[]string{"--network", "none", "-p", "8080:80"}, "-p cannot be used with --network none"},
		{[]string{"--network", "host", "-p", "8080:80"}, "-p cannot be used with --network host"},
		{[]string{"--network", name, "-p", ":80"}, "invalid -p"},
		{[]string{"--network", name, "-p", "1:99999"}, "invalid -p"},
		{[]string{"--driver", "wasm", "--network", name}, "driver wasm cannot join a network namespace"},
	} {
		args := append(append([]string{"run", "--rm"}, c.args...), fs, "true")
		r := e.wantCode(125, args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if len(lines) != 1 || !strings.Contains(lines[0], c.want) {
			t.Errorf("rtd %s: stderr %q, want one line containing %q", strings.Join(args, " "), r.stderr, c.want)
		}
		if recs := e.records(); len(recs) != 1 {
			t.Errorf("rtd %s left records: %v", strings.Join(args, " "), recs)
		}
	}
	// A create that fails after the network was attached (the command is
	// missing: 127) detaches it again.
	failPort := freePort(t)
	e.wantCode(127, "run", "--rm", "--network", name, "-p", fmt.Sprintf("127.0.0.1:%d:80", failPort), fs, "/no/such/cmd")
	if recs := e.records(); len(recs) != 1 {
		t.Errorf("a failed create left records: %v", recs)
	}
	if l := iptablesLines("--dport " + strconv.Itoa(failPort)); len(l) > 0 {
		t.Errorf("a failed create left iptables rules: %q", l)
	}
	if r := e.wantCode(1, "network", "create", "--bridge", "lo", "taken"); !strings.Contains(r.stderr, "already exists on this host") {
		t.Errorf("network create on an existing device: %s", r)
	}
	if r := e.wantCode(1, "network", "rm", name); !strings.Contains(r.stderr, "in use by "+id) {
		t.Errorf("network rm of a network in use: %s", r)
	}
	e.ok("rm", "-f", id)
	e.noNetworkLeft(bridge, []int{free, taken}, nil)
	if _, err := os.Stat(filepath.Join(e.root, "containers")); err == nil {
		if ents, _ := os.ReadDir(filepath.Join(e.root, "containers")); len(ents) > 0 {
			t.Errorf("left in containers/: %v", ents)
		}
	}
}
