package network

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
)

// Peer is a container's name and address on a network, for /etc/hosts.
type Peer struct {
	Name string
	IP   string
}

// HostsFile is a container's /etc/hosts: localhost, its own address and
// hostname, and its peers on a user network.
func HostsFile(hostname, ip string, peers []Peer) []byte {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	if ip == "" {
		ip = "127.0.1.1"
	}
	fmt.Fprintf(&b, "%s\t%s\n", ip, hostname)
	sort.Slice(peers, func(i, j int) bool { return peers[i].Name < peers[j].Name })
	for _, p := range peers {
		if p.IP != "" && p.Name != "" {
			fmt.Fprintf(&b, "%s\t%s\n", p.IP, p.Name)
		}
	}
	return b.Bytes()
}

// ResolvConf is a container's /etc/resolv.conf: the host's, less the
// nameservers on loopback, which the container cannot reach. rtd adds no
// public resolver of its own.
func ResolvConf(host []byte) []byte {
	var b bytes.Buffer
	b.WriteString("# written by rtd from the host's /etc/resolv.conf\n")
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		if f[0] == "nameserver" && len(f) > 1 {
			if ip := net.ParseIP(f[1]); ip == nil || ip.IsLoopback() {
				continue
			}
		}
		b.WriteString(line + "\n")
	}
	return b.Bytes()
}

// HostResolvConf reads the host's /etc/resolv.conf ("" when it has none).
func HostResolvConf() []byte {
	b, _ := os.ReadFile("/etc/resolv.conf")
	return b
}
