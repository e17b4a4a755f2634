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
	// Routes are the interface's other routes through a gateway (the
	// routes of its own subnets come with Addrs).
	Routes []Route
}

// Route is a route to Dst through Gw.
type Route struct {
	Dst *net.IPNet
	Gw  net.IP
}

// Tap is a tap device connected to a namespace's interface.
type Tap struct {
	// Interface is the namespace's interface the tap is connected to.
	Interface string
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
		t = &Tap{Interface: ifName, Name: tap, File: tt.Fds[0], Config: cfg}
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
		switch {
		case r.Gw == nil:
		case r.Dst == nil || (r.Dst.IP.IsUnspecified() && isZeroMask(r.Dst.Mask)):
			cfg.Gateway = r.Gw
		default:
			cfg.Routes = append(cfg.Routes, Route{Dst: r.Dst, Gw: r.Gw})
		}
	}
	return cfg, nil
}

func isZeroMask(m net.IPMask) bool {
	ones, _ := m.Size()
	return ones == 0
}

// Interfaces lists the interfaces of the network namespace at nsPath that
// a VM takes over: every one but loopback (and taps) with an IPv4 address,
// in ifindex order.
func Interfaces(nsPath string) ([]string, error) {
	var names []string
	err := inNS(nsPath, func() error {
		links, err := netlink.LinkList()
		if err != nil {
			return err
		}
		for _, l := range links {
			a := l.Attrs()
			if a.Flags&net.FlagLoopback != 0 || l.Type() == "tuntap" {
				continue
			}
			addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
			if err != nil {
				return fmt.Errorf("addresses of %s: %w", a.Name, err)
			}
			if len(addrs) > 0 {
				names = append(names, a.Name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nettap: interfaces of %s: %w", nsPath, err)
	}
	return names, nil
}

// Link is one of a namespace's Interfaces with its configuration.
type Link struct {
	Name   string
	Config Config
}

// Links returns the namespace's Interfaces with their configuration, for a
// guest configured before its taps exist (the configuration is the same
// then: Connect changes none of it).
func Links(nsPath string) ([]Link, error) {
	names, err := Interfaces(nsPath)
	if err != nil {
		return nil, err
	}
	links := make([]Link, 0, len(names))
	err = inNS(nsPath, func() error {
		for _, name := range names {
			l, err := netlink.LinkByName(name)
			if err != nil {
				return fmt.Errorf("interface %s: %w", name, err)
			}
			cfg, err := readConfig(l)
			if err != nil {
				return err
			}
			links = append(links, Link{Name: name, Config: cfg})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nettap: interfaces of %s: %w", nsPath, err)
	}
	return links, nil
}

// ConnectAll connects a tap (named prefix0, prefix1, ...) to each of the
// namespace's Interfaces. On failure nothing is left; a namespace without
// such an interface gives no taps.
func ConnectAll(nsPath, prefix string) (taps []*Tap, retErr error) {
	names, err := Interfaces(nsPath)
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			Close(nsPath, taps)
		}
	}()
	for i, name := range names {
		t, err := Connect(nsPath, name, fmt.Sprintf("%s%d", prefix, i))
		if err != nil {
			return taps, err
		}
		taps = append(taps, t)
	}
	return taps, nil
}

// Close closes the taps' files and disconnects them from their
// interfaces; errors are dropped (what is gone is gone).
func Close(nsPath string, taps []*Tap) {
	for _, t := range taps {
		if t.File != nil {
			t.File.Close()
		}
		_ = Disconnect(nsPath, t.Interface, t.Name)
	}
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
