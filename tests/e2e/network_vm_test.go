//go:build linux

package e2e

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtd-project/rtd/drivers/unikernel"
	"github.com/rtd-project/rtd/drivers/vm"
)

// TestNetworkVM: a vm container gets its network through a tap in its
// network namespace (kit/nettap): on a user network its published port
// answers on 127.0.0.1, its address answers from the host and, by name,
// from a linux container on the same network; its guest has eth0 with the
// address, MAC and default route CNI gave the namespace, and the /etc
// files. The default network of a vm container is the builtin bridge.
// After rm nothing is left (record, veth, lease, iptables rule, mount).
func TestNetworkVM(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.extraEnv = append(e.extraEnv, vmDriverEnv(t)...)
	name, bridge, subnet := e.userNetwork()
	body := "hello from a vm"
	fs := webRootfs(t, body)
	web, port, ip := e.runWeb("vm", "vmweb", name, subnet, fs, body)
	client := uniqueID("cli")
	_, sn, _ := net.ParseCIDR(subnet)
	gw := sn.IP.To4()
	gw[3] = 1
	out := e.ok("exec", web, "sh", "-c", "ip -o -4 addr show eth0; ip route; cat /etc/resolv.conf").stdout
	if !strings.Contains(out, " "+ip+"/24 ") || !strings.Contains(out, "default via "+gw.String()+" dev eth0") {
		t.Errorf("the guest's eth0 and routes: want %s/24 and a default route through %s, got:\n%s", ip, gw, out)
	}
	if strings.Contains(out, "nameserver 127.") {
		t.Errorf("resolv.conf names a loopback nameserver:\n%s", out)
	}
	// A linux container on the same network reaches the VM by name.
	e.ok("run", "-d", "--driver", "linux", "--name", client, "--network", name, fs, "sleep", "100")
	req := `printf 'GET / HTTP/1.0\r\n\r\n' | nc ` + web + ` 80`
	if out := e.ok("exec", client, "sh", "-c", req).stdout; !strings.Contains(out, body) {
		t.Errorf("%s (%s) from %s: %q, want it to contain %q", web, ip, client, out, body)
	}
	e.ok("rm", "-f", client)
	e.ok("rm", "-f", web)
	e.noNetworkLeft(bridge, []int{port}, []string{ip})

	out = e.ok("run", "--rm", "--driver", "vm", fs, "sh", "-c", "ip -o -4 addr show eth0; ip route").stdout
	if !strings.Contains(out, " 10.66.") || !strings.Contains(out, "default via 10.66.0.1") {
		t.Errorf("default network of a vm container: want eth0 in 10.66.0.0/16 and a default route through the bridge, got:\n%s", out)
	}
	e.noNetworkLeft(bridgeOfDefault, nil, nil)
}

var (
	unikernelBuildOnce sync.Once
	unikernelBuildErr  error
)

// unikernelDriverEnv skips unless QEMU, erofs-utils and the guest kernel
// are there, and builds the unikernel driver and its linux guest's init
// next to rtd once. It returns the environment a unikernel test's rtd needs.
func unikernelDriverEnv(t *testing.T) []string {
	t.Helper()
	vmEnv := vmDriverEnv(t) // the same QEMU, erofs-utils and kernel
	unikernelBuildOnce.Do(func() {
		for _, b := range [][2]string{
			{"rtd-driver-unikernel", "github.com/rtd-project/rtd/cmd/rtd-driver-unikernel"},
			{"rtd-unikernel-init", "github.com/rtd-project/rtd/cmd/rtd-unikernel-init"},
		} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, b[0]), b[1])
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				unikernelBuildErr = fmt.Errorf("go build %s: %v\n%s", b[1], err, out)
				return
			}
		}
	})
	if unikernelBuildErr != nil {
		t.Fatal(unikernelBuildErr)
	}
	dir := strings.TrimPrefix(vmEnv[0], vm.KernelDirEnv+"=")
	return []string{unikernel.KernelDirEnv + "=" + dir}
}

// TestNetworkUnikernel: a unikernel (the linux guest: the program alone in
// its VM) on a user network answers on its published port on 127.0.0.1 and
// on its address; after rm nothing is left.
func TestNetworkUnikernel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.extraEnv = append(e.extraEnv, unikernelDriverEnv(t)...)
	name, bridge, subnet := e.userNetwork()
	body := "hello from a unikernel"
	fs := webRootfs(t, body)
	decl := `{"com.urunc.unikernel.unikernelType": "` + base64.StdEncoding.EncodeToString([]byte("linux")) + `"}`
	if err := os.WriteFile(filepath.Join(fs, "urunc.json"), []byte(decl), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	id := uniqueID("uniweb")
	e.ok("run", "-d", "--driver", "unikernel", "--name", id, "--network", name, "-p", fmt.Sprintf("127.0.0.1:%d:80", port),
		fs, "httpd", "-f", "-p", "80", "-h", "/www")
	// The guest boots after Start (slow under TCG on a loaded machine).
	waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/", port), 2*time.Minute)
	if got := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); got != body {
		t.Errorf("published port answered %q, want %q", got, body)
	}
	m := regexp.MustCompile(`"ip": "([0-9.]+)"`).FindStringSubmatch(e.ok("inspect", id).stdout)
	_, sn, _ := net.ParseCIDR(subnet)
	if m == nil || !sn.Contains(net.ParseIP(m[1])) {
		t.Fatalf("rtd inspect %s: no address in %s", id, subnet)
	}
	if got := httpGet(t, "http://"+m[1]+"/"); got != body {
		t.Errorf("the unikernel's address answered %q, want %q", got, body)
	}
	e.ok("rm", "-f", id)
	e.noNetworkLeft(bridge, []int{port}, []string{m[1]})
}

// waitHTTP waits up to limit for url to answer.
func waitHTTP(t *testing.T, url string, limit time.Duration) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			return
		}
	}
	t.Fatalf("%s did not answer within %s", url, limit)
}
