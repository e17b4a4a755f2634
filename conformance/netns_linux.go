//go:build linux

package conformance

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// netNS is a network namespace the suite made, bind-mounted at path, with
// its loopback up.
type netNS struct {
	path string
	ln   net.Listener
}

// newNetNS creates a network namespace at path (as `ip netns add` does).
func newNetNS(path string) (*netNS, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return nil, err
	}
	f.Close()
	err = inNewThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return err
		}
		if err := unix.Mount(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), path, "", unix.MS_BIND, ""); err != nil {
			return err
		}
		return loopbackUp()
	})
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	return &netNS{path: path}, nil
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

func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// serve listens on 127.0.0.1 inside the namespace and writes token to the
// first connection; it returns the port.
func (n *netNS) serve(token string) (int, error) {
	err := inNewThread(func() error {
		fd, err := unix.Open(n.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			return err
		}
		n.ln, err = net.Listen("tcp4", "127.0.0.1:0")
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("listen in network namespace %s: %w", n.path, err)
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
	return n.ln.Addr().(*net.TCPAddr).Port, nil
}

func (n *netNS) close() {
	if n.ln != nil {
		n.ln.Close()
	}
	_ = unix.Unmount(n.path, unix.MNT_DETACH)
	os.Remove(n.path)
}
