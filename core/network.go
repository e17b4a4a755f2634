package core

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/core/network"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
)

// NetworkOptions are a container's --network and -p.
type NetworkOptions struct {
	// Mode is "none", "host", "bridge" or a user network's name; "" is
	// bridge for an image rtd writes the spec of (a root filesystem,
	// hello) on a driver that can join a network namespace, else the
	// spec's own (none).
	Mode string
	// Publish are -p values ([HOST_IP:]HOST_PORT:CONTAINER_PORT[/udp]).
	Publish []string
}

// NetworkInfo is what the record says of a container's network.
type NetworkInfo struct {
	Mode  string         `json:"mode"`
	IP    string         `json:"ip,omitempty"`
	Ports []network.Port `json:"ports,omitempty"`
}

// The files of a container's network in its record directory.
const (
	netnsFile      = "netns"
	attachmentFile = "network.json"
	hostsFile      = "hosts"
	resolvFile     = "resolv.conf"
	hostnameFile   = "hostname"
)

// Networks is the store of the root's networks.
func (c *Core) Networks() *network.Store { return network.NewStore(c.root) }

// netPlan is what Create does for a container's network.
type netPlan struct {
	mode  string
	net   *network.Network // bridge and user networks
	ports []network.Port
}

// planNetwork checks the network options against the image and the driver
// before anything is written: an unknown network, a port taken, a driver
// that cannot join a namespace or conflicting flags fail here.
func (c *Core) planNetwork(ctx context.Context, id string, opts NetworkOptions, img *Image, d *Plugin) (*netPlan, error) {
	p := &netPlan{mode: opts.Mode}
	for _, s := range opts.Publish {
		port, err := network.ParsePort(s)
		if err != nil {
			return nil, err
		}
		p.ports = append(p.ports, port)
	}
	if p.mode == "" && img.Kind == KindBundle {
		if len(p.ports) > 0 {
			return nil, driver.InvalidArgumentf("create %s: -p needs --network bridge or a user network with a bundle image (a bundle's spec decides its network otherwise)", id)
		}
		return nil, nil
	}
	var canJoin bool
	if p.mode != network.None && p.mode != network.Host {
		info, err := d.Info(ctx)
		if err != nil {
			return nil, err
		}
		canJoin = info.Capabilities.NetworkNamespace
		if p.mode == "" {
			p.mode = network.None
			if canJoin {
				p.mode = network.Bridge
			}
		}
	}
	if p.mode == network.None || p.mode == network.Host {
		if len(p.ports) > 0 {
			return nil, driver.InvalidArgumentf("create %s: -p cannot be used with --network %s: publish ports from bridge or a user network", id, p.mode)
		}
		return p, nil
	}
	if !canJoin {
		return nil, driver.InvalidArgumentf("create %s: driver %s cannot join a network namespace yet: use --network none (or host)", id, d.Name)
	}
	n, err := c.Networks().Get(p.mode)
	if err != nil {
		return nil, err
	}
	p.net = n
	if len(p.ports) > 0 {
		taken, err := c.publishedPorts()
		if err != nil {
			return nil, err
		}
		for i, port := range p.ports {
			if port.HostPort == 0 { // -p CONTAINER_PORT: a random host port
				if p.ports[i], err = network.AllocatePort(port, append(taken, p.ports[:i]...)); err != nil {
					return nil, fmt.Errorf("create %s: %w", id, err)
				}
				continue
			}
			if err := network.CheckPortFree(port, append(taken, p.ports[:i]...)); err != nil {
				return nil, fmt.Errorf("create %s: %w", id, err)
			}
		}
	}
	if err := network.CheckPlugins(); err != nil {
		return nil, err
	}
	return p, nil
}

// applyNetwork changes the spec for the plan: the network namespace path
// and the /etc files for bridge and user networks, no network namespace
// for host.
func (p *netPlan) applyNetwork(spec *specs.Spec, dir string) {
	if p == nil || spec.Linux == nil {
		return
	}
	switch p.mode {
	case network.None:
		return
	case network.Host:
		spec.Linux.Namespaces = slices.DeleteFunc(spec.Linux.Namespaces, func(ns specs.LinuxNamespace) bool {
			return ns.Type == specs.NetworkNamespace
		})
		return
	}
	found := false
	for i, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			spec.Linux.Namespaces[i].Path = filepath.Join(dir, netnsFile)
			found = true
		}
	}
	if !found {
		spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: filepath.Join(dir, netnsFile)})
	}
	for _, f := range []struct{ name, dst string }{{hostsFile, "/etc/hosts"}, {resolvFile, "/etc/resolv.conf"}, {hostnameFile, "/etc/hostname"}} {
		spec.Mounts = append(spec.Mounts, specs.Mount{
			Destination: f.dst, Type: "bind", Source: filepath.Join(dir, f.name),
			Options: []string{"rbind", "rprivate"},
		})
	}
}

// attachNetwork sets the plan's network up for a created record: the
// attachment is saved first, so that RemoveRecord undoes even a part.
func (c *Core) attachNetwork(ctx context.Context, rec *Record, dir string, p *netPlan, hostname string) error {
	if p == nil {
		return nil
	}
	rec.Network = &NetworkInfo{Mode: p.mode, Ports: p.ports}
	if p.net == nil {
		return nil
	}
	a := network.NewAttachment(c.Networks(), p.net, c.root+"\x00"+rec.ID, filepath.Join(dir, netnsFile), p.ports)
	path := filepath.Join(dir, attachmentFile)
	if err := atomicfile.WriteJSON(path, a, 0o600); err != nil {
		return fmt.Errorf("create %s: %w", rec.ID, err)
	}
	if err := network.Attach(ctx, a, nil); err != nil {
		return fmt.Errorf("create %s: %w", rec.ID, err)
	}
	if err := atomicfile.WriteJSON(path, a, 0o600); err != nil {
		return fmt.Errorf("create %s: %w", rec.ID, err)
	}
	rec.Network.IP = a.IP
	files := map[string][]byte{
		hostsFile:    network.HostsFile(hostname, a.IP, nil),
		resolvFile:   network.ResolvConf(network.HostResolvConf()),
		hostnameFile: []byte(hostname + "\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("create %s: %w", rec.ID, err)
		}
	}
	if p.net.Names {
		c.refreshHosts(p.net.Name)
	}
	return nil
}

// loadAttachment reads a container's network attachment; nil when it has
// none.
func (c *Core) loadAttachment(id string) *network.Attachment {
	a := &network.Attachment{}
	if err := atomicfile.ReadJSON(filepath.Join(c.ContainerDir(id), attachmentFile), a); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.logger.Warn("unreadable network attachment", "id", id, "error", err)
		}
		return nil
	}
	return a
}

// detachNetwork undoes attachNetwork (RemoveRecord calls it on every
// removal path: rm, a failed create's rollback, reclaiming an abandoned
// creation).
func (c *Core) detachNetwork(ctx context.Context, id string) error {
	a := c.loadAttachment(id)
	if a == nil {
		return nil
	}
	if err := network.Detach(ctx, a, nil); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(c.ContainerDir(id), attachmentFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if n, err := c.Networks().Get(a.Network); err == nil && n.Names {
		c.refreshHosts(a.Network)
	}
	return nil
}

// refreshHosts rewrites the /etc/hosts of every container on a user
// network, so that each finds the others by name. The files are rewritten
// in place: containers see them through their bind mounts.
func (c *Core) refreshHosts(name string) {
	unlock, err := c.lock()
	if err != nil {
		c.logger.Warn("refresh hosts files", "network", name, "error", err)
		return
	}
	defer unlock()
	recs, _ := c.Records()
	type member struct {
		rec *Record
		ip  string
	}
	var members []member
	var peers []network.Peer
	for _, r := range recs {
		a := c.loadAttachment(r.ID)
		if a == nil || a.Network != name || a.IP == "" {
			continue
		}
		members = append(members, member{r, a.IP})
		peers = append(peers, network.Peer{Name: r.ID, IP: a.IP})
	}
	for _, m := range members {
		hostname, _ := os.ReadFile(filepath.Join(c.ContainerDir(m.rec.ID), hostnameFile))
		others := slices.DeleteFunc(slices.Clone(peers), func(p network.Peer) bool { return p.Name == m.rec.ID })
		b := network.HostsFile(string(trimNL(hostname)), m.ip, others)
		if err := os.WriteFile(filepath.Join(c.ContainerDir(m.rec.ID), hostsFile), b, 0o644); err != nil {
			c.logger.Warn("refresh hosts file", "id", m.rec.ID, "error", err)
		}
	}
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// publishedPorts lists the ports the root's containers publish.
func (c *Core) publishedPorts() ([]network.Port, error) {
	recs, err := c.Records()
	if err != nil {
		return nil, err
	}
	var ports []network.Port
	for _, r := range recs {
		if r.Network != nil {
			ports = append(ports, r.Network.Ports...)
		}
	}
	return ports, nil
}

// NetworkUsers lists the containers attached to a network.
func (c *Core) NetworkUsers(name string) ([]string, error) {
	recs, err := c.Records()
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range recs {
		if r.Network != nil && r.Network.Mode == name {
			ids = append(ids, r.ID)
		}
	}
	return ids, nil
}
