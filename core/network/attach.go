package network

// Attachment is one container's attachment to a network: what Attach sets
// up and Detach undoes. The core saves it before Attach begins, so that
// Detach can undo a part done by a creator that died half-way.
type Attachment struct {
	// Network is the network's rtd name; CNIName its CNI name; Subnet its
	// address range.
	Network string `json:"network"`
	CNIName string `json:"cniName"`
	Subnet  string `json:"subnet"`
	// ContainerID is the CNI container id: unique per root and container,
	// so that roots sharing the builtin network never collide.
	ContainerID string `json:"containerID"`
	// NetNS is the bind-mounted network namespace the container joins.
	NetNS string `json:"netns"`
	// Conflist is the CNI configuration used, kept for DEL.
	Conflist []byte `json:"conflist"`
	// CacheDir is libcni's cache directory.
	CacheDir string `json:"cacheDir"`
	Ports    []Port `json:"ports,omitempty"`
	// Set by Attach.
	IP      string `json:"ip,omitempty"`
	Prefix  int    `json:"prefix,omitempty"`
	Gateway string `json:"gateway,omitempty"`
	MAC     string `json:"mac,omitempty"`
}

// IfName is the container's interface.
const IfName = "eth0"

// NewAttachment prepares the attachment of container key (unique on the
// host, e.g. root and id) to n, with its namespace at nsPath; store is the
// root's network store (for CNI's cache and user networks' leases).
func NewAttachment(s *Store, n *Network, key, nsPath string, ports []Port) *Attachment {
	ipamDir := s.Dir() + "/ipam"
	return &Attachment{
		Network:     n.Name,
		CNIName:     n.CNIName(),
		Subnet:      n.Subnet,
		ContainerID: "rtd-" + shortHash(key),
		NetNS:       nsPath,
		Conflist:    n.conflist(ipamDir, len(ports) > 0),
		CacheDir:    s.Dir() + "/cache",
		Ports:       ports,
	}
}
