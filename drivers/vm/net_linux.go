package vm

import (
	"fmt"
	"os"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/vm/wire"
	"github.com/rtd-project/rtd/internal/vmm"
	"github.com/rtd-project/rtd/kit/nettap"
)

// tapPrefix names the taps the monitor makes in a container's network
// namespace (rtdtap0, ...).
const tapPrefix = "rtdtap"

func netnsPath(spec *specs.Spec) string { return vmm.NetnsPath(spec) }

// checkNetns refuses a network namespace path that is not one, and the
// host's namespace (vmm.CheckNetns).
func checkNetns(id, path string) error {
	if err := vmm.CheckNetns(path); err != nil {
		return driver.InvalidArgumentf("create %s: %v", id, err)
	}
	return nil
}

// guestNamespaces drops a network namespace given by path from the guest's
// spec: the guest's own namespace, where the agent configured the
// interfaces of that namespace, is the container's.
func guestNamespaces(nss []specs.LinuxNamespace) []specs.LinuxNamespace {
	return slices.DeleteFunc(slices.Clone(nss), func(ns specs.LinuxNamespace) bool {
		return ns.Type == specs.NetworkNamespace && ns.Path != ""
	})
}

// connectNetwork connects a tap to each interface of the spec's network
// namespace (kit/nettap) and returns the taps, whose files go to QEMU, and
// the guest's view of the interfaces. A namespace without an interface
// (only loopback) gives the guest none.
func (m *monitor) connectNetwork(spec *specs.Spec) ([]*nettap.Tap, []wire.Interface, error) {
	path := netnsPath(spec)
	if path == "" {
		return nil, nil, nil
	}
	taps, err := nettap.ConnectAll(path, tapPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("create %s: network: %w", m.req.ID, err)
	}
	ifaces := make([]wire.Interface, 0, len(taps))
	for _, t := range taps {
		ifaces = append(ifaces, vmm.GuestInterface(t.Interface, t.Config))
	}
	return taps, ifaces, nil
}

// disconnectNetwork closes the monitor's copies of the taps and removes
// them and their tc filters from the namespace (QEMU is gone by then).
func (m *monitor) disconnectNetwork() {
	if len(m.taps) == 0 {
		return
	}
	var path string
	switch {
	case m.spec != nil:
		path = netnsPath(m.spec)
	case m.pod != nil: // a pod's VM (connectPodNetwork)
		path = m.pod.NetNSPath
	default:
		return
	}
	nettap.Close(path, m.taps)
	m.taps = nil
}

// tapFiles are the taps' files, for QEMU's extra files.
func tapFiles(taps []*nettap.Tap) []*os.File {
	fs := make([]*os.File, len(taps))
	for i, t := range taps {
		fs[i] = t.File
	}
	return fs
}
