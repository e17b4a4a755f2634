package vmm

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/internal/guest"
	"github.com/rtd-project/rtd/kit/nettap"
)

// GuestInterface is how a guest configures the virtio-net device standing
// for the namespace's interface name (configured as c).
func GuestInterface(name string, c nettap.Config) guest.Interface {
	ifc := guest.Interface{Name: name, MAC: c.MAC.String(), MTU: c.MTU}
	for _, a := range c.Addrs {
		ifc.Addrs = append(ifc.Addrs, a.String())
	}
	if c.Gateway != nil {
		ifc.Gateway = c.Gateway.String()
	}
	for _, r := range c.Routes {
		ifc.Routes = append(ifc.Routes, guest.Route{Dst: r.Dst.String(), Gw: r.Gw.String()})
	}
	return ifc
}

// NICArgs returns the -netdev/-device pairs of virtio-net devices on taps
// whose files QEMU has as fds firstFd, firstFd+1, ..., with the MAC
// addresses macs.
func NICArgs(firstFd int, macs []string) []string {
	var args []string
	for i, mac := range macs {
		args = append(args,
			"-netdev", fmt.Sprintf("tap,id=net%d,fd=%d", i, firstFd+i),
			"-device", fmt.Sprintf("virtio-net-device,netdev=net%d,mac=%s", i, mac))
	}
	return args
}

// NetnsPath returns the network namespace the spec names by path (the core
// made it and attached it through CNI), "" when none.
func NetnsPath(spec *specs.Spec) string {
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

// CheckNetns refuses a network namespace path that is not one, and the
// host's namespace: a VM takes over its namespace's interfaces, which
// would cut the host off. The host's is init's and the one this process
// started in (a driver runs in the host's; init's may be unreadable, as in a
// sandboxed machine whose pid 1 is not ours to inspect).
func CheckNetns(path string) error {
	var sfs unix.Statfs_t
	if err := unix.Statfs(path, &sfs); err != nil {
		return fmt.Errorf("network namespace %s: %w", path, err)
	}
	if sfs.Type != unix.NSFS_MAGIC {
		return fmt.Errorf("network namespace %s is not a namespace file (a bind mount of /proc/PID/ns/net)", path)
	}
	var ns, host unix.Stat_t
	if err := unix.Stat(path, &ns); err != nil {
		return fmt.Errorf("network namespace %s: %w", path, err)
	}
	hosts := []unix.Stat_t{startNetns}
	if unix.Stat("/proc/1/ns/net", &host) == nil {
		hosts = append(hosts, host)
	}
	for _, h := range hosts {
		if h.Ino != 0 && h.Dev == ns.Dev && h.Ino == ns.Ino {
			return errors.New("network namespace " + path + " is the host's: a VM takes over its namespace's interfaces, it cannot share the host's network")
		}
	}
	return nil
}

// startNetns is the network namespace this process started in, taken
// while only the main thread runs: later, /proc/self/ns/net names the
// main thread's, which a goroutine that unshared a namespace on a locked
// main thread and ended without unlocking leaves in that namespace.
var startNetns = func() (st unix.Stat_t) {
	_ = unix.Stat("/proc/self/ns/net", &st)
	return st
}()
