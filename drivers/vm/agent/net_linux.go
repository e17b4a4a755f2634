package agent

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/rtd-project/rtd/drivers/vm/wire"
	"github.com/rtd-project/rtd/internal/guest"
)

// netModules are the modules of virtio-net, in load order; the agent loads
// them only for a guest that has a network. A kernel with virtio-net built
// in has none of them, which is fine.
var netModules = []string{"failover.ko", "net_failover.ko", "virtio_net.ko"}

// linkTimeout bounds the wait for a virtio-net device to show up.
const linkTimeout = 10 * time.Second

// configureNetwork gives each interface the host's namespace had its
// virtio-net device (found by MAC): name, MTU, addresses, up, routes. The
// container shares the guest's network namespace, so this is its network.
func configureNetwork(ifaces []wire.Interface) error {
	if len(ifaces) == 0 {
		return nil
	}
	for _, m := range netModules {
		path := filepath.Join(modulesDir, m)
		if _, err := os.Stat(path); err != nil {
			continue // built in, or the kernel cache predates networking: the lookup below says
		}
		if err := guest.LoadModule(path); err != nil {
			return err
		}
	}
	if lo, err := netlink.LinkByName("lo"); err == nil {
		if err := netlink.LinkSetUp(lo); err != nil {
			return fmt.Errorf("loopback up: %w", err)
		}
	}
	for _, ifc := range ifaces {
		if err := configureInterface(ifc); err != nil {
			return fmt.Errorf("network interface %s (%s): %w", ifc.Name, ifc.MAC, err)
		}
	}
	return nil
}

func configureInterface(ifc wire.Interface) error {
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
				" (interfaces: " + strings.Join(seen, ", ") + "); a kernel cache without virtio_net: run hack/vm-kernel.sh again")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
