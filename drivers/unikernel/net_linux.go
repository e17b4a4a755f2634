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
