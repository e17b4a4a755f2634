//go:build linux

package rtdshim

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	runtimeoptions "github.com/containerd/containerd/api/types/runtimeoptions/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestBinaryDriver: containerd-shim-rtd-DRIVER-v2 names DRIVER; the
// plain shim and other names none.
func TestBinaryDriver(t *testing.T) {
	for name, want := range map[string]string{
		"/usr/local/bin/containerd-shim-rtd-gvisor-v2": "gvisor",
		"containerd-shim-rtd-linux-v2":                 "linux",
		"/usr/local/bin/containerd-shim-rtd-v2":        "",
		"containerd-shim-runc-v2":                      "",
		"containerd-shim-rtd-vm":                       "",
	} {
		if got := binaryDriver(name); got != want {
			t.Errorf("binaryDriver(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestRuntimeOptionsKept: the handler's options containerd gives `start`
// reach CreateSandbox through the bundle; none gives the defaults.
func TestRuntimeOptionsKept(t *testing.T) {
	bundle := t.TempDir()
	o, err := loadRuntimeOptions(bundle)
	if err != nil || o.Driver != binaryDriver(os.Args[0]) {
		t.Fatalf("options of a bundle without any: %+v, %v", o, err)
	}
	a, err := typeurl.MarshalAnyToProto(&runtimeoptions.Options{ConfigBody: []byte(`driver = "gvisor"` + "\n")})
	if err != nil {
		t.Fatal(err)
	}
	data, err := proto.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := saveRuntimeOptions(bytes.NewReader(data), bundle); err != nil {
		t.Fatal(err)
	}
	if o, err = loadRuntimeOptions(bundle); err != nil || o.Driver != "gvisor" {
		t.Fatalf("kept options: %+v, %v; want driver gvisor", o, err)
	}
	// A typo in the handler's options is refused, as for a container.
	a, _ = typeurl.MarshalAnyToProto(&runtimeoptions.Options{ConfigBody: []byte(`drivr = "gvisor"`)})
	data, _ = proto.Marshal(a)
	os.WriteFile(filepath.Join(bundle, optionsFile), data, 0o600)
	if _, err := loadRuntimeOptions(bundle); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("options with an unknown key: %v, want InvalidArgument", err)
	}
}

// TestSandboxSpecOf: CRI's PodSandboxConfig becomes the driver's sandbox
// spec: hostname, DNS, CRI's network namespace, shared namespaces by the
// pod's modes, resources, annotations.
func TestSandboxSpecOf(t *testing.T) {
	cfg := &runtime.PodSandboxConfig{
		Metadata:    &runtime.PodSandboxMetadata{Name: "web", Namespace: "ns", Uid: "u1"},
		Hostname:    "web-0",
		DnsConfig:   &runtime.DNSConfig{Servers: []string{"10.0.0.10"}, Searches: []string{"ns.svc"}, Options: []string{"ndots:5"}},
		Annotations: map[string]string{"a": "b"},
		Linux: &runtime.LinuxPodSandboxConfig{
			Resources: &runtime.LinuxContainerResources{CpuPeriod: 100000, CpuQuota: 50000, CpuShares: 512, MemoryLimitInBytes: 256 << 20},
			SecurityContext: &runtime.LinuxSandboxSecurityContext{NamespaceOptions: &runtime.NamespaceOption{
				Pid: runtime.NamespaceMode_CONTAINER,
			}},
		},
	}
	a, err := anypb.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := podConfig(a)
	if err != nil {
		t.Fatal(err)
	}
	spec := sandboxSpecOf("p1", "/var/run/netns/cni-1", got, map[string]string{"c": "d"})
	if spec.ID != "p1" || spec.Hostname != "web-0" || spec.NetNSPath != "/var/run/netns/cni-1" ||
		!slices.Equal(spec.DNS.Servers, []string{"10.0.0.10"}) || !slices.Equal(spec.DNS.Options, []string{"ndots:5"}) {
		t.Errorf("spec = %+v", spec)
	}
	if !slices.Equal(spec.Namespaces, []specs.LinuxNamespaceType{specs.UTSNamespace, specs.IPCNamespace}) {
		t.Errorf("namespaces of a pod with a pid namespace per container: %v, want uts and ipc", spec.Namespaces)
	}
	r := spec.Resources
	if r == nil || *r.CPU.Period != 100000 || *r.CPU.Quota != 50000 || *r.CPU.Shares != 512 || *r.Memory.Limit != 256<<20 {
		t.Errorf("resources = %+v", r)
	}
	if spec.Annotations["a"] != "b" || spec.Annotations["c"] != "d" || spec.Annotations[criSandboxID] != "p1" ||
		spec.Annotations["io.kubernetes.cri.sandbox-name"] != "web" {
		t.Errorf("annotations = %v", spec.Annotations)
	}

	// crictl's default: the pod shares a pid namespace; a host-network pod
	// joins the host's; no resources give none.
	host := &runtime.PodSandboxConfig{Linux: &runtime.LinuxPodSandboxConfig{SecurityContext: &runtime.LinuxSandboxSecurityContext{
		NamespaceOptions: &runtime.NamespaceOption{Network: runtime.NamespaceMode_NODE, Ipc: runtime.NamespaceMode_NODE},
	}}}
	spec = sandboxSpecOf("p2", "", host, nil)
	if spec.NetNSPath != hostNetNS() || spec.Resources != nil ||
		!slices.Equal(spec.Namespaces, []specs.LinuxNamespaceType{specs.UTSNamespace, specs.PIDNamespace}) {
		t.Errorf("host-network pod: %+v", spec)
	}

	// No options (not through CRI) is an empty config; another type is
	// refused.
	if c, err := podConfig(nil); err != nil || c.GetHostname() != "" {
		t.Errorf("podConfig(nil) = %v, %v", c, err)
	}
	other, _ := anypb.New(&runtime.ContainerConfig{})
	if _, err := podConfig(other); !errdefs.IsInvalidArgument(err) {
		t.Errorf("podConfig of a ContainerConfig: %v, want InvalidArgument", err)
	}
}
