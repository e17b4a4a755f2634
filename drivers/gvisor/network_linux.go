//go:build linux

package gvisor

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/kit/ocispec"
)

// network is runsc's --network value: none unless forBundle chose host.
func (c runscConfig) network() string {
	if c.Network == "" {
		return "none"
	}
	return c.Network
}

// forBundle returns the config to create the bundle's container with. A
// spec naming a network namespace by path (the core made it and attached
// it through CNI) gets --network=host: runsc starts the sandbox in that
// namespace and the Sentry's sockets use its interfaces (hostinet). Its own
// netstack (--network=sandbox) would be the stronger choice, but Debian's
// runsc (2022) refuses it on this kernel: its test for "the host's network
// namespace" (a /proc/sys/net file that newer kernels show in every
// namespace) fails every namespace. Everything else runs with
// --network=none, as before.
func (c runscConfig) forBundle(bundle string) runscConfig {
	spec, err := ocispec.Load(bundle)
	if err != nil || spec.Linux == nil {
		return c
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace && ns.Path != "" {
			c.Network = "host"
		}
	}
	return c
}
