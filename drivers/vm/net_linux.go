package vm

import (
	"fmt"
	"os"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/vm/wire"
	"github.com/rtd-project/rtd/kit/nettap"
)

// tapPrefix names the taps the monitor makes in a container's network
// namespace (rtdtap0, ...).
const tapPrefix = "rtdtap"

// netnsPath returns the network namespace the spec names by path (the core
// made it and attached it through CNI), "" when none.
func netnsPath(spec *specs.Spec) string {
	if spec.Linux == nil {
		return ""
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			return ns.Path
		}
	}
	return ""
}

// checkNetns refuses a network namespace path that is not one, and the
// host's namespace: its interfaces are handed over to the guest, which
// would cut the host off.
func checkNetns(id, path string) error {
	var sfs unix.Statfs_t
	if err := unix.Statfs(path, &sfs); err != nil {
		return driver.InvalidArgumentf("create %s: network namespace %s: %v", id, path, err)
	}
	if sfs.Type != unix.NSFS_MAGIC {
		return driver.InvalidArgumentf("create %s: network namespace %s is not a namespace file (a bind mount of /proc/PID/ns/net)", id, path)
	}
	var ns unix.Stat_t
	if err := unix.Stat(path, &ns); err != nil {
		return driver.InvalidArgumentf("create %s: network namespace %s: %v", id, path, err)
	}
	var host unix.Stat_t
	if unix.Stat("/proc/1/ns/net", &host) == nil && host.Dev == ns.Dev && host.Ino == ns.Ino {
		return driver.InvalidArgumentf("create %s: network namespace %s is the host's: a VM takes over its namespace's interfaces; use --network host only with a driver that shares the host's kernel", id, path)
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
		c := t.Config
		ifc := wire.Interface{Name: t.Interface, MAC: c.MAC.String(), MTU: c.MTU}
		for _, a := range c.Addrs {
			ifc.Addrs = append(ifc.Addrs, a.String())
		}
		if c.Gateway != nil {
			ifc.Gateway = c.Gateway.String()
		}
		for _, r := range c.Routes {
			ifc.Routes = append(ifc.Routes, wire.Route{Dst: r.Dst.String(), Gw: r.Gw.String()})
		}
		ifaces = append(ifaces, ifc)
	}
	return taps, ifaces, nil
}

// disconnectNetwork closes the monitor's copies of the taps and removes
// them and their tc filters from the namespace (QEMU is gone by then).
func (m *monitor) disconnectNetwork() {
	if len(m.taps) == 0 {
		return
	}
	spec := m.spec
	if spec == nil {
		return
	}
	nettap.Close(netnsPath(spec), m.taps)
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
