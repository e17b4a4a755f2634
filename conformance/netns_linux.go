//go:build linux

package conformance

import (
	"fmt"
	"net"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/kit/nettap"
)

// The addresses of NET-001's link, inside namespaces the suite made (never
// on the host): the container's eth0 and its peer, where the listener is.
const (
	netCIDR  = "10.251.7.2/24"
	peerCIDR = "10.251.7.1/24"
	peerIP   = "10.251.7.1"
)

// netNS is a network namespace the suite made, bind-mounted at path, with
// its loopback up and an interface eth0 (a veth, 10.251.7.2/24, default
// route through its peer) whose peer (10.251.7.1) is in a second namespace
// of the suite's, as CNI's bridge would set one up: a driver that runs
// the container in the namespace (linux, gvisor) and one that hands eth0
// to a VM (vm, through a tap) both reach the peer.
type netNS struct {
	path, peer string
	ln         net.Listener
}

// newNetNS creates the namespace at path and its peer at path+"-peer" (as
// `ip netns add` does), linked by a veth pair.
func newNetNS(path string) (n *netNS, retErr error) {
	n = &netNS{}
	defer func() {
		if retErr != nil {
			n.close()
		}
	}()
	if err := nettap.NewNS(path); err != nil {
		return nil, err
	}
	n.path = path
	if err := nettap.NewNS(path + "-peer"); err != nil {
		return nil, err
	}
	n.peer = path + "-peer"
	peerFd, err := unix.Open(n.peer, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(peerFd)
	err = nettap.InNS(n.path, func() error {
		if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, PeerName: "peer0"}); err != nil {
			return fmt.Errorf("veth: %w", err)
		}
		p, err := netlink.LinkByName("peer0")
		if err != nil {
			return err
		}
		if err := netlink.LinkSetNsFd(p, peerFd); err != nil {
			return err
		}
		return configureLink("eth0", netCIDR, peerIP)
	})
	if err != nil {
		return nil, err
	}
	if err := nettap.InNS(n.peer, func() error { return configureLink("peer0", peerCIDR, "") }); err != nil {
		return nil, err
	}
	return n, nil
}

// configureLink gives a link its address, brings it up and, with gw, adds
// a default route through gw.
func configureLink(name, cidr, gw string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return err
	}
	addr, err := netlink.ParseAddr(cidr)
	if err != nil {
		return err
	}
	if err := netlink.AddrAdd(l, addr); err != nil {
		return fmt.Errorf("address %s on %s: %w", cidr, name, err)
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return err
	}
	if gw != "" {
		return netlink.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Gw: net.ParseIP(gw)})
	}
	return nil
}

// serve listens on the peer's address inside the peer namespace and writes
// token to the first connection; it returns the address to dial.
func (n *netNS) serve(token string) (string, error) {
	err := nettap.InNS(n.peer, func() (err error) {
		n.ln, err = net.Listen("tcp4", peerIP+":0")
		return err
	})
	if err != nil {
		return "", fmt.Errorf("listen in network namespace %s: %w", n.peer, err)
	}
	go func() {
		if tl, ok := n.ln.(*net.TCPListener); ok {
			_ = tl.SetDeadline(time.Now().Add(serveTimeout))
		}
		c, err := n.ln.Accept()
		if err != nil {
			return
		}
		fmt.Fprintln(c, token)
		c.Close()
	}()
	return n.ln.Addr().String(), nil
}

func (n *netNS) close() {
	if n.ln != nil {
		n.ln.Close()
	}
	for _, p := range []string{n.path, n.peer} {
		if p != "" {
			_ = nettap.RemoveNS(p)
		}
	}
}
