package guest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
)

// linkTimeout bounds the wait for a virtio-net device to show up.
const linkTimeout = 10 * time.Second

// ConfigureNetwork loads NetModules from modulesDir (those that are there)
// and gives each interface the host's namespace had to its virtio-net
// device (found by MAC): name, MTU, addresses, up, default route, routes.
// Loopback is brought up in any case (a container sharing the guest's
// namespace, as with --network host, has it too).
func ConfigureNetwork(modulesDir string, ifaces []Interface) error {
	if lo, err := netlink.LinkByName("lo"); err == nil {
		if err := netlink.LinkSetUp(lo); err != nil {
			return fmt.Errorf("loopback up: %w", err)
		}
	}
	if len(ifaces) == 0 {
		return nil
	}
	for _, m := range NetModules {
		path := filepath.Join(modulesDir, m)
		if _, err := os.Stat(path); err != nil {
			continue // built in (below)
		}
		if err := LoadModule(path); err != nil {
			return err
		}
	}
	// Loaded or built in, virtio_net is in /sys/module (it has parameters).
	if _, err := os.Stat("/sys/module/virtio_net"); err != nil {
		return errors.New("the guest kernel has no virtio_net (not built in, and not among the initramfs's modules): a kernel cache older than rtd's network support? run hack/vm-kernel.sh again")
	}
	for _, ifc := range ifaces {
		if err := configureInterface(ifc); err != nil {
			return fmt.Errorf("network interface %s (%s): %w", ifc.Name, ifc.MAC, err)
		}
	}
	return nil
}

func configureInterface(ifc Interface) error {
	mac, err := net.ParseMAC(ifc.MAC)
	if err != nil {
		return err
	}
	link, err := linkByMAC(mac, linkTimeout)
	if err != nil {
		return err
	}
	if ifc.Name != "" && link.Attrs().Name != ifc.Name {
		if err := netlink.LinkSetName(link, ifc.Name); err != nil {
			return fmt.Errorf("rename %s: %w", link.Attrs().Name, err)
		}
	}
	if ifc.MTU > 0 && link.Attrs().MTU != ifc.MTU {
		if err := netlink.LinkSetMTU(link, ifc.MTU); err != nil {
			return fmt.Errorf("mtu %d: %w", ifc.MTU, err)
		}
	}
	for _, a := range ifc.Addrs {
		addr, err := netlink.ParseAddr(a)
		if err != nil {
			return err
		}
		if err := netlink.AddrAdd(link, addr); err != nil {
			return fmt.Errorf("address %s: %w", a, err)
		}
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("up: %w", err)
	}
	idx := link.Attrs().Index
	if ifc.Gateway != "" {
		gw := net.ParseIP(ifc.Gateway)
		if gw == nil {
			return fmt.Errorf("gateway %q is not an IP address", ifc.Gateway)
		}
		if err := netlink.RouteAdd(&netlink.Route{LinkIndex: idx, Gw: gw}); err != nil {
			return fmt.Errorf("default route via %s: %w", gw, err)
		}
	}
	for _, r := range ifc.Routes {
		_, dst, err := net.ParseCIDR(r.Dst)
		gw := net.ParseIP(r.Gw)
		if err != nil || gw == nil {
			return fmt.Errorf("route %s via %s: not a CIDR and an IP address", r.Dst, r.Gw)
		}
		if err := netlink.RouteAdd(&netlink.Route{LinkIndex: idx, Dst: dst, Gw: gw}); err != nil {
			return fmt.Errorf("route %s via %s: %w", r.Dst, r.Gw, err)
		}
	}
	return nil
}

// linkByMAC waits for the interface with mac to show up.
func linkByMAC(mac net.HardwareAddr, timeout time.Duration) (netlink.Link, error) {
	deadline := time.Now().Add(timeout)
	for {
		links, err := netlink.LinkList()
		if err != nil {
			return nil, err
		}
		var seen []string
		for _, l := range links {
			if l.Attrs().HardwareAddr.String() == mac.String() {
				return l, nil
			}
			seen = append(seen, l.Attrs().Name)
		}
		if time.Now().After(deadline) {
			return nil, errors.New("no virtio-net device with this MAC after " + timeout.String() +
				" (interfaces: " + strings.Join(seen, ", ") + ")")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
