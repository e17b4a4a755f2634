//go:build linux

package conformance

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
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
	if err := mountNewNS(path); err != nil {
		return nil, err
	}
	n.path = path
	if err := mountNewNS(path + "-peer"); err != nil {
		return nil, err
	}
	n.peer = path + "-peer"
	peerFd, err := unix.Open(n.peer, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(peerFd)
	err = inNS(n.path, func() error {
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
	if err := inNS(n.peer, func() error { return configureLink("peer0", peerCIDR, "") }); err != nil {
		return nil, err
	}
	return n, nil
}

// mountNewNS makes a network namespace with loopback up, bind-mounted at path.
func mountNewNS(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return err
	}
	f.Close()
	err = inNewThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return err
		}
		if err := unix.Mount(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), path, "", unix.MS_BIND, ""); err != nil {
			return err
		}
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(lo)
	})
	if err != nil {
		os.Remove(path)
	}
	return err
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

// inNewThread runs fn on a thread of its own that ends with it, so that
// namespace changes never reach another goroutine.
func inNewThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		errc <- fn()
	}()
	return <-errc
}

// inNS runs fn on a thread of its own in the network namespace at path.
func inNS(path string, fn func() error) error {
	return inNewThread(func() error {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			return err
		}
		return fn()
	})
}

// serve listens on the peer's address inside the peer namespace and writes
// token to the first connection; it returns the address to dial.
func (n *netNS) serve(token string) (string, error) {
	err := inNS(n.peer, func() (err error) {
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
			_ = unix.Unmount(p, unix.MNT_DETACH)
			os.Remove(p)
		}
	}
}
