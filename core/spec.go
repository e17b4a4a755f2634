package core

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/kit/ocispec"
)

// DefaultArgs is the command of a root filesystem image run without one.
var DefaultArgs = []string{"sh"}

// DefaultSpec is rtd's spec for a root filesystem directory (what
// `runc spec` writes, with docker's capabilities and a writable root; the
// same spec the conformance suite uses): rootfs is the absolute root path,
// hostname the container's hostname.
func DefaultSpec(rootfs, hostname string) *specs.Spec {
	spec := ocispec.Default(rootfs, append([]string(nil), DefaultArgs...))
	spec.Hostname = hostname
	return spec
}
