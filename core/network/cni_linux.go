//go:build linux

package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/rtd-project/rtd/driver"
)

// PluginPath is where the CNI plugins are looked for (Debian's
// containernetworking-plugins installs them in /usr/lib/cni).
var PluginPath = []string{"/usr/lib/cni", "/opt/cni/bin"}

// CheckPlugins fails with Unavailable when a plugin rtd needs is missing.
func CheckPlugins() error {
	for _, p := range []string{"bridge", "host-local", "portmap"} {
		found := false
		for _, d := range PluginPath {
			if _, err := os.Stat(filepath.Join(d, p)); err == nil {
				found = true
				break
			}
		}
		if !found {
			return driver.Unavailablef("CNI plugin %q not found in %v: install Debian's containernetworking-plugins (hack/setup.sh does)", p, PluginPath)
		}
	}
	return nil
}

// Attach creates a's network namespace (loopback up) and runs CNI ADD
// (bridge, host-local, portmap) for it, filling in the address.
// exec runs the plugins (nil: the default); it lets benchmarks time them.
func Attach(ctx context.Context, a *Attachment, exec invoke.Exec) error {
	if err := CheckPlugins(); err != nil {
		return err
	}
	if err := ensureMasquerade(a.CNIName, a.Subnet); err != nil {
		return err
	}
	// CreateNS brings loopback up.
	if err := CreateNS(a.NetNS); err != nil {
		return err
	}
	list, err := libcni.NetworkConfFromBytes(a.Conflist)
	if err != nil {
		return fmt.Errorf("network %s: %w", a.Network, err)
	}
	cni := libcni.NewCNIConfigWithCacheDir(PluginPath, a.CacheDir, exec)
	res, err := cni.AddNetworkList(ctx, list, a.runtimeConf())
	if err != nil {
		return fmt.Errorf("network %s: cni add: %w", a.Network, err)
	}
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return fmt.Errorf("network %s: cni result: %w", a.Network, err)
	}
	for _, ip := range r.IPs {
		if ip.Address.IP.To4() == nil {
			continue
		}
		a.IP = ip.Address.IP.String()
		a.Prefix, _ = ip.Address.Mask.Size()
		if ip.Gateway != nil {
			a.Gateway = ip.Gateway.String()
		}
		if ip.Interface != nil && *ip.Interface < len(r.Interfaces) {
			a.MAC = r.Interfaces[*ip.Interface].Mac
		}
		break
	}
	if a.IP == "" {
		return fmt.Errorf("network %s: cni add gave no IPv4 address", a.Network)
	}
	return nil
}

// Detach runs CNI DEL for a (releasing its address, its veth and its port
// forwarding rules) and removes its network namespace. It is idempotent,
// and undoes a half-done Attach.
//
// A container without published ports is released with one plugin process
// instead of two: the veth is deleted here (netlink, in the namespace),
// then libcni runs DEL of a list holding only the IPAM plugin (releaseList),
// which frees the address and libcni's cached result. That is all the
// bridge plugin's own DEL does for rtd's configuration (no ipMasq, no MAC
// spoof check), without starting bridge to start host-local.
func Detach(ctx context.Context, a *Attachment, exec invoke.Exec) error {
	var errs []error
	conflist := a.Conflist
	rt := a.runtimeConf()
	nsExists := true
	if _, err := os.Stat(a.NetNS); err != nil {
		nsExists = false
		rt.NetNS = "" // plugins still release what they hold on the host
	}
	if rel := releaseList(a.Conflist); rel != nil && len(a.Ports) == 0 {
		conflist = rel
		if nsExists {
			if err := deleteLinkIn(a.NetNS, IfName); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if list, err := libcni.NetworkConfFromBytes(conflist); err != nil {
		errs = append(errs, err)
	} else {
		cni := libcni.NewCNIConfigWithCacheDir(PluginPath, a.CacheDir, exec)
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			errs = append(errs, fmt.Errorf("cni del: %w", err))
		}
	}
	if err := RemoveNS(a.NetNS); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("network %s: detach %s: %w", a.Network, a.ContainerID, err)
	}
	return nil
}

// deleteLinkIn deletes the device name in the network namespace at path
// (a veth: its peer on the host goes with it); one not there is fine.
func deleteLinkIn(path, name string) error {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("netns %s: %w", path, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netns %s: %w", path, err)
	}
	defer h.Close()
	l, err := h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("netns %s: %s: %w", path, name, err)
	}
	if err := h.LinkDel(l); err != nil {
		return fmt.Errorf("netns %s: delete %s: %w", path, name, err)
	}
	return nil
}

func (a *Attachment) runtimeConf() *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{ContainerID: a.ContainerID, NetNS: a.NetNS, IfName: IfName}
	if len(a.Ports) > 0 {
		rt.CapabilityArgs = map[string]any{"portMappings": portMappings(a.Ports)}
	}
	return rt
}

// hostRoutes lists the destinations of the host's IPv4 routes.
func hostRoutes() []*net.IPNet {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil
	}
	var nets []*net.IPNet
	for _, r := range routes {
		if r.Dst != nil && !r.Dst.IP.IsUnspecified() {
			nets = append(nets, r.Dst)
		}
	}
	return nets
}

// deleteLink deletes a network device; one that does not exist is fine.
func deleteLink(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return err
	}
	return netlink.LinkDel(l)
}

// linkExists reports whether the host has a network device of that name.
func linkExists(name string) bool {
	_, err := netlink.LinkByName(name)
	return err == nil
}
