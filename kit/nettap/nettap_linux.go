//go:build linux

package nettap

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Config is what the guest needs to configure its interface as the
// namespace's interface was.
type Config struct {
	MAC     net.HardwareAddr
	MTU     int
	Addrs   []*net.IPNet // IPv4 addresses with their prefix
	Gateway net.IP       // the default route's gateway, nil if none
}

// Tap is a tap device connected to a namespace's interface.
type Tap struct {
	// Name is the tap device in the namespace; Index its ifindex there.
	Name  string
	Index int
	// File is the tap's queue: give it to the VM monitor (QEMU:
	// -netdev tap,fd=N) and close this copy. The tap disappears when the
	// last copy is closed.
	File *os.File
	// Config is the interface's configuration, for the guest.
	Config Config
}

// Connect creates a tap device named tap in the network namespace at
// nsPath and connects it with ifName there, both ways, with tc filters.
// On failure nothing is left in the namespace.
func Connect(nsPath, ifName, tap string) (t *Tap, retErr error) {
	err := inNS(nsPath, func() error {
		link, err := netlink.LinkByName(ifName)
		if err != nil {
			return fmt.Errorf("interface %s: %w", ifName, err)
		}
		cfg, err := readConfig(link)
		if err != nil {
			return err
		}
		tt := &netlink.Tuntap{
			LinkAttrs:  netlink.LinkAttrs{Name: tap, MTU: cfg.MTU},
			Mode:       netlink.TUNTAP_MODE_TAP,
			Flags:      netlink.TUNTAP_NO_PI | netlink.TUNTAP_ONE_QUEUE,
			Queues:     1,
			NonPersist: true,
		}
		if err := netlink.LinkAdd(tt); err != nil {
			return fmt.Errorf("create tap %s: %w", tap, err)
		}
		t = &Tap{Name: tap, File: tt.Fds[0], Config: cfg}
		defer func() {
			if retErr != nil {
				t.File.Close()
				_ = netlink.LinkDel(tt)
				_ = removeIngress(link)
			}
		}()
		tl, err := netlink.LinkByName(tap)
		if err != nil {
			return fmt.Errorf("tap %s: %w", tap, err)
		}
		t.Index = tl.Attrs().Index
		if err := netlink.LinkSetUp(tl); err != nil {
			return fmt.Errorf("tap %s up: %w", tap, err)
		}
		if err := redirect(tl, link); err != nil {
			return err
		}
		return redirect(link, tl)
	})
	if err != nil {
		return nil, fmt.Errorf("nettap: connect %s to %s in %s: %w", tap, ifName, nsPath, err)
	}
	return t, nil
}

// Disconnect removes the tc filters from ifName and deletes the tap (if a
// copy of its file is still open somewhere). Missing parts are fine.
func Disconnect(nsPath, ifName, tap string) error {
	err := inNS(nsPath, func() error {
		var errs []error
		if l, err := netlink.LinkByName(tap); err == nil {
			errs = append(errs, netlink.LinkDel(l))
		}
		if l, err := netlink.LinkByName(ifName); err == nil {
			errs = append(errs, removeIngress(l))
		}
		return errors.Join(errs...)
	})
	if err != nil {
		return fmt.Errorf("nettap: disconnect %s from %s in %s: %w", tap, ifName, nsPath, err)
	}
	return nil
}

func readConfig(link netlink.Link) (Config, error) {
	attrs := link.Attrs()
	cfg := Config{MAC: attrs.HardwareAddr, MTU: attrs.MTU}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return cfg, fmt.Errorf("addresses of %s: %w", attrs.Name, err)
	}
	for _, a := range addrs {
		cfg.Addrs = append(cfg.Addrs, a.IPNet)
	}
	routes, err := netlink.RouteList(link, netlink.FAMILY_V4)
	if err != nil {
		return cfg, fmt.Errorf("routes of %s: %w", attrs.Name, err)
	}
	for _, r := range routes {
		if (r.Dst == nil || r.Dst.IP.IsUnspecified()) && r.Gw != nil {
			cfg.Gateway = r.Gw
		}
	}
	return cfg, nil
}

// ingress is the handle of a link's ingress qdisc.
var ingress = netlink.MakeHandle(0xffff, 0)

// redirect sends every frame arriving on from out of to: an ingress qdisc
// on from, and a u32 filter matching all with a mirred egress redirect.
func redirect(from, to netlink.Link) error {
	q := &netlink.Ingress{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: from.Attrs().Index, Parent: netlink.HANDLE_INGRESS, Handle: ingress}}
	if err := netlink.QdiscAdd(q); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("ingress qdisc on %s: %w", from.Attrs().Name, err)
	}
	f := &netlink.U32{
		FilterAttrs: netlink.FilterAttrs{LinkIndex: from.Attrs().Index, Parent: ingress, Protocol: unix.ETH_P_ALL, Priority: 1},
		Actions: []netlink.Action{&netlink.MirredAction{
			ActionAttrs:  netlink.ActionAttrs{Action: netlink.TC_ACT_STOLEN},
			MirredAction: netlink.TCA_EGRESS_REDIR,
			Ifindex:      to.Attrs().Index,
		}},
	}
	if err := netlink.FilterAdd(f); err != nil {
		return fmt.Errorf("redirect filter %s -> %s: %w", from.Attrs().Name, to.Attrs().Name, err)
	}
	return nil
}

// removeIngress deletes a link's ingress qdisc, and its filters with it.
func removeIngress(l netlink.Link) error {
	q := &netlink.Ingress{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: l.Attrs().Index, Parent: netlink.HANDLE_INGRESS, Handle: ingress}}
	if err := netlink.QdiscDel(q); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
		return err
	}
	return nil
}

// inNS runs fn on a thread in the network namespace at path. The thread
// goes back to its namespace after; one that cannot is not reused.
func inNS(path string, fn func() error) error {
	target, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("network namespace %s: %w", path, err)
	}
	defer target.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(target); err != nil {
			errc <- err
			return
		}
		errc <- fn()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
	}()
	return <-errc
}
