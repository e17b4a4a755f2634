package unikernel

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/guest"
	"github.com/rtd-project/rtd/internal/vmm"
	"github.com/rtd-project/rtd/kit/nettap"
)

// tapPrefix names the taps the monitor makes in a container's network
// namespace (rtdtap0, ...).
const tapPrefix = "rtdtap"

// checkNetwork refuses a network namespace path that is not one, and the
// host's; it returns the path ("" when the spec names none).
func checkNetwork(id string, spec *specs.Spec) (string, error) {
	path := vmm.NetnsPath(spec)
	if path == "" {
		return "", nil
	}
	if err := vmm.CheckNetns(path); err != nil {
		return "", driver.InvalidArgumentf("create %s: %v", id, err)
	}
	return path, nil
}

// guestNetwork is the linux guest's view of the spec's network namespace:
// its init configures a virtio-net device (found by MAC) as each interface.
func guestNetwork(spec *specs.Spec) ([]guest.Interface, error) {
	path := vmm.NetnsPath(spec)
	if path == "" {
		return nil, nil
	}
	links, err := nettap.Links(path)
	if err != nil {
		return nil, err
	}
	ifaces := make([]guest.Interface, 0, len(links))
	for _, l := range links {
		ifaces = append(ifaces, vmm.GuestInterface(l.Name, l.Config))
	}
	return ifaces, nil
}

// connectTaps connects a tap to each interface of the namespace at netns
// (kit/nettap) and returns their files, to be QEMU's fds firstFd, ..., and
// the -netdev/-device arguments of their virtio-net devices (the
// interfaces' MAC addresses, as a linux guest expects; urunc gives other
// guests the tap the same way and their command line the addresses).
func connectTaps(netns string, firstFd int) ([]*os.File, []string, error) {
	taps, err := nettap.ConnectAll(netns, tapPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("network: %w", err)
	}
	files := make([]*os.File, len(taps))
	macs := make([]string, len(taps))
	for i, t := range taps {
		files[i], macs[i] = t.File, t.Config.MAC.String()
	}
	return files, vmm.NICArgs(firstFd, macs), nil
}

// guestNet is the address a guest that reads its network from its command
// line (unikraft, mewz, hermit, rumprun, mirage) is told, as urunc tells
// it: the first IPv4 address of the namespace's first interface and its
// gateway; nil without a network namespace or an IPv4 address. The
// values come from netlink, never from the spec or an annotation.
func guestNet(spec *specs.Spec) (*GuestNet, error) {
	path := vmm.NetnsPath(spec)
	if path == "" {
		return nil, nil
	}
	links, err := nettap.Links(path)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	return firstIPv4(links), nil
}

// firstIPv4 picks the guest's address from the namespace's interfaces.
func firstIPv4(links []nettap.Link) *GuestNet {
	for _, l := range links {
		for _, a := range l.Config.Addrs {
			if ip4 := a.IP.To4(); ip4 != nil {
				bits, _ := a.Mask.Size()
				n := &GuestNet{IP: ip4.String(), Bits: bits}
				if gw := l.Config.Gateway.To4(); gw != nil {
					n.Gateway = gw.String()
				}
				return n
			}
		}
	}
	return nil
}
