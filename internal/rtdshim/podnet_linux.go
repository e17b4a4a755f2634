package rtdshim

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// podNetNS is the network namespace of a CRI pod's driver sandbox, from its
// pause container's spec: CRI's (a path, made by CNI) for a pod on the pod
// network, "" for a new one of the driver's (a spec asking for a new
// namespace), and for a hostNetwork pod (no network namespace in the spec:
// the runtime's own) the host's, named by the shim's pid (the shim inherits
// containerd's namespace and lives as long as the pod). Without it the
// driver would make the pod a namespace of its own: not the host's network
// the pod asked for. A driver that cannot share it refuses it (the vm
// driver: a VM cannot share the host's network).
func podNetNS(spec *specs.Spec) string {
	if spec.Linux == nil {
		return hostNetNS()
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			return ns.Path
		}
	}
	return hostNetNS()
}

// hostNetNS names the network namespace the shim runs in.
func hostNetNS() string { return fmt.Sprintf("/proc/%d/ns/net", os.Getpid()) }
