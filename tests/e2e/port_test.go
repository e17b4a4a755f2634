//go:build linux

package e2e

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestPublishRandomPort: -p CONTAINER_PORT and -p HOST_IP::CONTAINER_PORT
// publish on a host port rtd picks; rtd port lists them (all, or one
// container port) and rtd ps shows them; the port answers on 127.0.0.1; an
// unpublished port is an error.
func TestPublishRandomPort(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	name, bridge, _ := e.userNetwork()
	body := "random port"
	fs := webRootfs(t, body)
	id := uniqueID("rport")
	e.ok("run", "-d", "--name", id, "--network", name, "-p", "80", "-p", "127.0.0.1::8080", fs,
		"sh", "-c", "httpd -p 8080 -h /www; exec httpd -f -p 80 -h /www")
	// 80/tcp -> 0.0.0.0:N and 8080/tcp -> 127.0.0.1:M, in -p order.
	lines := strings.Split(strings.TrimSpace(e.ok("port", id).stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "80/tcp -> 0.0.0.0:") || !strings.HasPrefix(lines[1], "8080/tcp -> 127.0.0.1:") {
		t.Fatalf("rtd port: %q", lines)
	}
	var ports []int
	for _, l := range lines {
		_, addr, _ := strings.Cut(l, " -> ")
		_, p, err := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(p)
		if err != nil || n == 0 {
			t.Fatalf("rtd port line %q has no host port", l)
		}
		ports = append(ports, n)
	}
	if ports[0] == ports[1] {
		t.Errorf("both container ports got host port %d", ports[0])
	}
	if got := strings.TrimSpace(e.ok("port", id, "80").stdout); got != fmt.Sprintf("0.0.0.0:%d", ports[0]) {
		t.Errorf("rtd port %s 80: %q", id, got)
	}
	if got := strings.TrimSpace(e.ok("port", id, "8080/tcp").stdout); got != fmt.Sprintf("127.0.0.1:%d", ports[1]) {
		t.Errorf("rtd port %s 8080/tcp: %q", id, got)
	}
	for _, p := range ports {
		if got := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", p)); got != body {
			t.Errorf("host port %d answered %q", p, got)
		}
	}
	want := fmt.Sprintf("0.0.0.0:%d->80/tcp, 127.0.0.1:%d->8080/tcp", ports[0], ports[1])
	if l := psLine(e, id); !strings.HasSuffix(strings.TrimSpace(l), want) {
		t.Errorf("ps line %q does not end with the ports %q", l, want)
	}
	if got := strings.TrimSpace(e.ok("ps", "--format", "{{.Ports}}", "--filter", "name="+id).stdout); got != want {
		t.Errorf("ps --format {{.Ports}}: %q, want %q", got, want)
	}
	if r := e.wantCode(1, "port", id, "81"); !strings.Contains(r.stderr, "no public port '81/tcp' published for "+id) {
		t.Errorf("rtd port of an unpublished port: %s", r)
	}
	if r := e.wantCode(125, "port", id, "x/sctp"); !strings.Contains(r.stderr, "invalid port") {
		t.Errorf("rtd port with a bad port: %s", r)
	}
	e.ok("rm", "-f", id)
	e.noNetworkLeft(bridge, ports, nil)
}
