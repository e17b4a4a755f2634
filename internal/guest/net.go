package guest

// Interface is a virtio-net device of a guest, found by its MAC address and
// configured as the host namespace's interface it stands for
// (kit/nettap): the same name, MAC, MTU, addresses and routes.
type Interface struct {
	Name    string
	MAC     string
	MTU     int      `json:",omitempty"`
	Addrs   []string // CIDR, e.g. 10.66.0.5/16
	Gateway string   `json:",omitempty"`
	Routes  []Route  `json:",omitempty"`
}

// Route is a route to Dst (CIDR) through Gw.
type Route struct {
	Dst string
	Gw  string
}

// NetModules are the modules of virtio-net, in load order: a guest loads
// them only when it has a network (ConfigureNetwork does). A kernel with
// virtio-net built in has none of them.
var NetModules = []string{"failover.ko", "net_failover.ko", "virtio_net.ko"}
