package network

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/rtd-project/rtd/driver"
)

// Port is a published port: HostIP:HostPort on the host forwards to
// ContainerPort in the container.
type Port struct {
	HostIP        string `json:"hostIP,omitempty"`
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"` // "tcp" or "udp"
}

func (p Port) String() string {
	host := strconv.Itoa(p.HostPort)
	if p.HostIP != "" {
		host = net.JoinHostPort(p.HostIP, host)
	}
	return fmt.Sprintf("%s->%d/%s", host, p.ContainerPort, p.Protocol)
}

// ParsePort parses a -p value as docker does:
// [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/tcp|/udp]. Without a host port
// (CONTAINER_PORT alone, or HOST_IP::CONTAINER_PORT) HostPort is 0: the
// port is picked when the container is created (AllocatePort).
func ParsePort(s string) (Port, error) {
	bad := func(why string) (Port, error) {
		return Port{}, driver.InvalidArgumentf("invalid -p %q: %s (want [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/tcp|/udp])", s, why)
	}
	p := Port{Protocol: "tcp"}
	spec, proto, ok := strings.Cut(s, "/")
	if ok {
		if proto != "tcp" && proto != "udp" {
			return bad("the protocol is tcp or udp")
		}
		p.Protocol = proto
	}
	parts := strings.Split(spec, ":")
	var host, ctr string
	switch len(parts) {
	case 1:
		ctr = parts[0]
	case 2:
		host, ctr = parts[0], parts[1]
		if host == "" {
			return bad("an empty host port (leave out HOST_PORT: for a random one)")
		}
	case 3:
		p.HostIP, host, ctr = parts[0], parts[1], parts[2]
		ip := net.ParseIP(p.HostIP)
		if ip == nil || ip.To4() == nil {
			return bad(fmt.Sprintf("host address %q is not an IPv4 address", p.HostIP))
		}
		if ip.IsUnspecified() {
			p.HostIP = ""
		}
	default:
		return bad("too many colons (IPv6 host addresses are not supported)")
	}
	var err error
	if host != "" {
		if p.HostPort, err = portNumber(host); err != nil {
			return bad("host port: " + err.Error())
		}
	}
	if p.ContainerPort, err = portNumber(ctr); err != nil {
		return bad("container port: " + err.Error())
	}
	return p, nil
}

// AllocatePort gives p, which has no host port, one the kernel picks from
// its ephemeral range on p's host address, skipping those in taken (the
// ports other containers publish).
func AllocatePort(p Port, taken []Port) (Port, error) {
	for range 20 {
		port, err := ephemeralPort(p)
		if err != nil {
			return p, driver.FailedPreconditionf("publish container port %d/%s: no free host port: %v", p.ContainerPort, p.Protocol, err)
		}
		q := p
		q.HostPort = port
		if CheckPortFree(q, taken) == nil {
			return q, nil
		}
	}
	return p, driver.FailedPreconditionf("publish container port %d/%s: no free host port after 20 tries", p.ContainerPort, p.Protocol)
}

// ephemeralPort binds port 0 on p's host address and returns the port the
// kernel gave.
func ephemeralPort(p Port) (int, error) {
	addr := net.JoinHostPort(p.HostIP, "0")
	if p.Protocol == "udp" {
		c, err := net.ListenPacket("udp4", addr)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port number (1-65535)", s)
	}
	return n, nil
}

// CheckPortFree fails with FailedPrecondition when something on the host
// already listens on p's host port, or when taken (the ports other
// containers publish) has it.
func CheckPortFree(p Port, taken []Port) error {
	for _, t := range taken {
		if t.HostPort == p.HostPort && t.Protocol == p.Protocol && (t.HostIP == "" || p.HostIP == "" || t.HostIP == p.HostIP) {
			return driver.FailedPreconditionf("port %d/%s is already published by another container", p.HostPort, p.Protocol)
		}
	}
	addr := net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort))
	if p.Protocol == "udp" {
		c, err := net.ListenPacket("udp4", addr)
		if err != nil {
			return driver.FailedPreconditionf("port %d/udp is already in use on the host (%v)", p.HostPort, err)
		}
		return c.Close()
	}
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		return driver.FailedPreconditionf("port %d/tcp is already in use on the host (%v)", p.HostPort, err)
	}
	return l.Close()
}

// portMappings is the portmap plugin's runtime configuration.
func portMappings(ports []Port) []map[string]any {
	var m []map[string]any
	for _, p := range ports {
		e := map[string]any{"hostPort": p.HostPort, "containerPort": p.ContainerPort, "protocol": p.Protocol}
		if p.HostIP != "" {
			e["hostIP"] = p.HostIP
		}
		m = append(m, e)
	}
	return m
}
