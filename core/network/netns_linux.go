//go:build linux

package network

import "github.com/rtd-project/rtd/kit/nettap"

// CreateNS creates a network namespace with loopback up and bind-mounts it
// at path (kit/nettap.NewNS), so that it outlives every process in it.
func CreateNS(path string) error { return nettap.NewNS(path) }

// RemoveNS unmounts and removes a network namespace made by CreateNS; one
// that is not there is fine.
func RemoveNS(path string) error { return nettap.RemoveNS(path) }
