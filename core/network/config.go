package network

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
)

// Modes of --network besides a network name.
const (
	// None is a private network namespace with only loopback.
	None = "none"
	// Host shares the host's network namespace.
	Host = "host"
	// Bridge is the builtin network every root shares.
	Bridge = "bridge"
)

// The builtin bridge network: one Linux bridge and one address range for
// the whole host, whatever the root, as docker0 is. Its leases are kept in
// host-local's default directory, so containers of several roots never get
// the same address.
const (
	BridgeDevice = "rtd0"
	BridgeSubnet = "10.66.0.0/16"
	bridgeCNI    = "rtd-bridge"
)

// Network is a named network: a Linux bridge with an address range.
type Network struct {
	Name string `json:"name"`
	// Bridge is the Linux bridge device.
	Bridge string `json:"bridge"`
	// Subnet is the IPv4 range containers get addresses from; the first
	// address is the bridge's (the gateway).
	Subnet string `json:"subnet"`
	// Builtin is true for "bridge".
	Builtin bool `json:"builtin,omitempty"`
	// Names says whether containers on it find each other by name (user
	// networks, as in docker).
	Names bool `json:"names"`
	// Root is the rtd root the network belongs to ("" for the builtin one).
	Root string `json:"-"`
}

// CNIName is the network's name in CNI (its IPAM directory, cache entries
// and iptables comments).
func (n *Network) CNIName() string {
	if n.Builtin {
		return bridgeCNI
	}
	return "rtd-" + shortHash(n.Root) + "-" + n.Name
}

// Store keeps a root's user networks in <root>/networks/<name>.json.
type Store struct {
	root string
}

// NewStore returns the network store of an rtd root.
func NewStore(root string) *Store { return &Store{root: root} }

// Dir is where the store keeps its files (also CNI's cache and the IPAM
// leases of user networks).
func (s *Store) Dir() string { return filepath.Join(s.root, "networks") }

func (s *Store) path(name string) string { return filepath.Join(s.Dir(), name+".json") }

// validName reports whether name is 1-64 characters of [a-zA-Z0-9_.-],
// starting with a letter or digit. A loop, not a regexp compiled at init:
// every rtd command would pay the compilation (~0.5 ms of CPU, issue 22).
func validName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return true
}

// ValidateName checks a user network's name.
func ValidateName(name string) error {
	switch name {
	case None, Host, Bridge, "default":
		return driver.InvalidArgumentf("network %q: the name is reserved", name)
	}
	if !validName(name) {
		return driver.InvalidArgumentf("network %q: a name is 1-64 characters of [a-zA-Z0-9_.-], starting with a letter or digit", name)
	}
	return nil
}

func builtin() *Network {
	return &Network{Name: Bridge, Bridge: BridgeDevice, Subnet: BridgeSubnet, Builtin: true}
}

// Get returns a network by name; an unknown one is NotFound.
func (s *Store) Get(name string) (*Network, error) {
	if name == Bridge {
		return builtin(), nil
	}
	b, err := os.ReadFile(s.path(name))
	if errors.Is(err, fs.ErrNotExist) || (err == nil && ValidateName(name) != nil) {
		return nil, driver.NotFoundf("network %q not found: `rtd network ls` lists them, `rtd network create %s` makes it", name, name)
	}
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}
	n := &Network{}
	if err := json.Unmarshal(b, n); err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}
	n.Root = s.root
	return n, nil
}

// List returns the builtin network and the user networks, by name.
func (s *Store) List() ([]*Network, error) {
	nets := []*Network{builtin()}
	entries, err := os.ReadDir(s.Dir())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || ValidateName(name) != nil {
			continue
		}
		n, err := s.Get(name)
		if err != nil {
			return nil, err
		}
		nets = append(nets, n)
	}
	sort.Slice(nets[1:], func(i, j int) bool { return nets[1+i].Name < nets[1+j].Name })
	return nets, nil
}

// CreateOptions describe a user network.
type CreateOptions struct {
	Name string
	// Bridge is the bridge device; "" derives one from the root and name.
	Bridge string
	// Subnet is an IPv4 CIDR; "" picks a free 10.67-10.127.x.0/24.
	Subnet string
}

// Create makes a user network. A name taken is AlreadyExists; a bridge or
// subnet another network of this root uses is InvalidArgument.
func (s *Store) Create(opts CreateOptions) (*Network, error) {
	if err := ValidateName(opts.Name); err != nil {
		return nil, err
	}
	nets, err := s.List()
	if err != nil {
		return nil, err
	}
	for _, n := range nets {
		if n.Name == opts.Name {
			return nil, driver.AlreadyExistsf("network %q already exists", opts.Name)
		}
	}
	n := &Network{Name: opts.Name, Bridge: opts.Bridge, Subnet: opts.Subnet, Names: true, Root: s.root}
	if n.Bridge == "" {
		n.Bridge = "rtd" + shortHash(s.root + "\x00" + opts.Name)[:11]
	}
	if len(n.Bridge) > 15 || !validName(n.Bridge) {
		return nil, driver.InvalidArgumentf("network %q: bridge name %q: want 1-15 characters of [a-zA-Z0-9_.-]", opts.Name, n.Bridge)
	}
	// An existing device is someone else's (docker0, eth0): network rm
	// deletes the bridge, so rtd only uses one it creates.
	if linkExists(n.Bridge) {
		return nil, driver.InvalidArgumentf("network %q: a network device named %s already exists on this host: choose another --bridge", opts.Name, n.Bridge)
	}
	if n.Subnet == "" {
		if n.Subnet, err = freeSubnet(nets); err != nil {
			return nil, err
		}
	}
	_, ipnet, err := net.ParseCIDR(n.Subnet)
	if err != nil || ipnet.IP.To4() == nil {
		return nil, driver.InvalidArgumentf("network %q: subnet %q: want an IPv4 CIDR such as 10.70.0.0/24", opts.Name, n.Subnet)
	}
	if ones, _ := ipnet.Mask.Size(); ones > 29 {
		return nil, driver.InvalidArgumentf("network %q: subnet %q is too small: want /29 or larger", opts.Name, n.Subnet)
	}
	n.Subnet = ipnet.String()
	for _, o := range nets {
		if o.Bridge == n.Bridge {
			return nil, driver.InvalidArgumentf("network %q: bridge %s is network %q's", opts.Name, n.Bridge, o.Name)
		}
		if _, on, err := net.ParseCIDR(o.Subnet); err == nil && (on.Contains(ipnet.IP) || ipnet.Contains(on.IP)) {
			return nil, driver.InvalidArgumentf("network %q: subnet %s overlaps network %q's (%s)", opts.Name, n.Subnet, o.Name, o.Subnet)
		}
	}
	if err := os.MkdirAll(s.Dir(), 0o700); err != nil {
		return nil, fmt.Errorf("create network %s: %w", n.Name, err)
	}
	if err := atomicfile.WriteJSON(s.path(n.Name), n, 0o600); err != nil {
		return nil, fmt.Errorf("create network %s: %w", n.Name, err)
	}
	return n, nil
}

// Remove deletes a user network's definition (the caller checks that no
// container uses it) and its bridge, if there is one.
func (s *Store) Remove(name string) error {
	if name == Bridge || name == None || name == Host {
		return driver.InvalidArgumentf("network %q is builtin and cannot be removed", name)
	}
	n, err := s.Get(name)
	if err != nil {
		return err
	}
	if err := deleteLink(n.Bridge); err != nil {
		return fmt.Errorf("remove network %s: %w", name, err)
	}
	if err := removeMasquerade(n.CNIName(), n.Subnet); err != nil {
		return fmt.Errorf("remove network %s: %w", name, err)
	}
	os.RemoveAll(filepath.Join(s.Dir(), "ipam", n.CNIName()))
	if err := os.Remove(s.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove network %s: %w", name, err)
	}
	return nil
}

// freeSubnet picks a /24 in 10.67.0.0-10.127.255.0 no network of this root
// has and no host route covers.
func freeSubnet(nets []*Network) (string, error) {
	used := hostRoutes()
	for _, n := range nets {
		if _, ipn, err := net.ParseCIDR(n.Subnet); err == nil {
			used = append(used, ipn)
		}
	}
	for a := 67; a < 128; a++ {
		for b := 0; b < 256; b++ {
			cand := &net.IPNet{IP: net.IPv4(10, byte(a), byte(b), 0).To4(), Mask: net.CIDRMask(24, 32)}
			free := true
			for _, u := range used {
				if u.Contains(cand.IP) || cand.Contains(u.IP) {
					free = false
					break
				}
			}
			if free {
				return cand.String(), nil
			}
		}
	}
	return "", driver.Unavailablef("no free subnet in 10.67.0.0/16-10.127.0.0/16: give one with --subnet")
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:12]
}

// conflist is the CNI configuration of a network for one container: bridge
// (with host-local addresses and the gateway on the bridge) and, when it
// publishes ports, portmap (which runs iptables even on DEL, so a container
// without ports does without it). Masquerading is per network
// (ensureMasquerade), not per container.
func (n *Network) conflist(ipamDir string, ports bool) []byte {
	ipam := map[string]any{
		"type":   "host-local",
		"ranges": [][]map[string]string{{{"subnet": n.Subnet}}},
		"routes": []map[string]string{{"dst": "0.0.0.0/0"}},
	}
	if !n.Builtin {
		ipam["dataDir"] = ipamDir
	}
	plugins := []map[string]any{
		{"type": "bridge", "bridge": n.Bridge, "isGateway": true, "hairpinMode": true, "ipam": ipam},
	}
	if ports {
		plugins = append(plugins, map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}})
	}
	conf := map[string]any{"cniVersion": "1.0.0", "name": n.CNIName(), "plugins": plugins}
	b, _ := json.Marshal(conf)
	return b
}

// releaseList is the CNI configuration that releases what conflist's ADD
// took when that is only a veth and an address: a list of the same name
// and version whose one plugin is the IPAM plugin, given the same IPAM
// configuration (host-local reads its "ipam" section). It is nil for
// anything else (published ports, the bridge plugin's ipMasq or MAC spoof
// check of an older rtd's attachment): those need the whole list's DEL.
func releaseList(conflist []byte) []byte {
	var conf struct {
		CNIVersion string           `json:"cniVersion"`
		Name       string           `json:"name"`
		Plugins    []map[string]any `json:"plugins"`
	}
	if err := json.Unmarshal(conflist, &conf); err != nil || len(conf.Plugins) != 1 {
		return nil
	}
	p := conf.Plugins[0]
	ipam, _ := p["ipam"].(map[string]any)
	ipamType, _ := ipam["type"].(string)
	if p["type"] != "bridge" || ipamType == "" {
		return nil
	}
	for k := range p {
		switch k {
		case "type", "bridge", "isGateway", "hairpinMode", "ipam":
		default:
			return nil // something bridge's DEL would undo beyond the veth
		}
	}
	b, _ := json.Marshal(map[string]any{"cniVersion": conf.CNIVersion, "name": conf.Name,
		"plugins": []map[string]any{{"type": ipamType, "ipam": ipam}}})
	return b
}
