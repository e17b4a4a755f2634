package rtdshim

import (
	"fmt"
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestPodNetNS: a pod's sandbox gets CRI's network namespace path, a new
// one when the spec asks for one, and the host's (the shim's) for a
// hostNetwork pod, whose spec has no network namespace.
func TestPodNetNS(t *testing.T) {
	host := fmt.Sprintf("/proc/%d/ns/net", os.Getpid())
	for _, c := range []struct {
		name string
		spec *specs.Spec
		want string
	}{
		{"cni", &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace, Path: "/var/run/netns/cni-1"}}}}, "/var/run/netns/cni-1"},
		{"new", &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.NetworkNamespace}}}}, ""},
		{"hostNetwork", &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}}}}, host},
		{"no linux", &specs.Spec{}, host},
	} {
		if got := podNetNS(c.spec); got != c.want {
			t.Errorf("%s: podNetNS = %q, want %q", c.name, got, c.want)
		}
	}
}
