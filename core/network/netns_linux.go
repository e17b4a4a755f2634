//go:build linux

package network

import (
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/rtd-project/rtd/kit/nettap"
)

// CreateNS creates a network namespace with loopback up and bind-mounts it
// at path (kit/nettap.NewNS), so that it outlives every process in it.
func CreateNS(path string) error { return nettap.NewNS(path) }

// RemoveNS unmounts and removes a network namespace made by CreateNS; one
// that is not there is fine.
func RemoveNS(path string) error { return nettap.RemoveNS(path) }

// loopbackUp brings up lo in the namespace at path.
func loopbackUp(path string) error {
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
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		return fmt.Errorf("netns %s: loopback up: %w", path, err)
	}
	return nil
}
