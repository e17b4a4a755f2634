//go:build linux

package rtdshim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/rtd-project/rtd/driver"
)

// What containerd's "shim" sandbox controller hands the shim, and how the
// shim turns it into a driver sandbox.
//
// containerd starts the shim for a pod (`containerd-shim-rtd-v2 start` in
// the pod's bundle, the handler's runtime options on stdin), then calls
// CreateSandbox with the pod's network namespace and CRI's
// PodSandboxConfig as options. The runtime options name the driver, so
// Manager.Start keeps them in the bundle for CreateSandbox to read.

// binaryDriver is the driver the shim's executable name names:
// containerd-shim-rtd-DRIVER-v2, which containerd runs for runtime_type
// "io.containerd.rtd-DRIVER.v2" (a link to containerd-shim-rtd-v2); "" for
// any other name. It is how a runtime handler without options chooses its
// driver: containerd 2.2 cannot start a container in a Sandbox API pod
// whose handler has options of a type other than runc's (its client reads
// them as runc options to add the sandbox's task address).
func binaryDriver(argv0 string) string {
	const prefix, suffix = "containerd-shim-rtd-", "-v2"
	name := filepath.Base(argv0)
	if !strings.HasPrefix(name, prefix) {
		return ""
	}
	rest := name[len(prefix):]
	if !strings.HasSuffix(rest, suffix) {
		return ""
	}
	return rest[:len(rest)-len(suffix)]
}

// withBinaryDriver gives options that choose no driver (none, or another
// runtime's) the driver of the shim's executable name.
func withBinaryDriver(o *Options) *Options {
	if o.Driver == "" && o.Isolation == "" && o.Policy == "" {
		o.Driver = binaryDriver(os.Args[0])
	}
	return o
}

// optionsFile, in a sandbox's bundle, holds the runtime options containerd
// passed to `containerd-shim-rtd-v2 start` (a protobuf Any).
const optionsFile = "rtd-runtime-options.pb"

// saveRuntimeOptions copies the runtime options from r (the start
// command's stdin) into bundle; nothing when there are none.
func saveRuntimeOptions(r io.Reader, bundle string) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read the runtime options: %w", err)
	}
	if len(data) == 0 {
		return nil
	}
	return os.WriteFile(filepath.Join(bundle, optionsFile), data, 0o600)
}

// loadRuntimeOptions reads what saveRuntimeOptions kept; none is the
// default options.
func loadRuntimeOptions(bundle string) (*Options, error) {
	data, err := os.ReadFile(filepath.Join(bundle, optionsFile))
	if errors.Is(err, os.ErrNotExist) {
		return withBinaryDriver(&Options{}), nil
	}
	if err != nil {
		return nil, err
	}
	var a anypb.Any
	if err := proto.Unmarshal(data, &a); err != nil {
		return nil, driver.InvalidArgumentf("rtd runtime options in %s: %v", bundle, err)
	}
	o, err := OptionsFromAny(&a)
	if err != nil {
		return nil, err
	}
	return withBinaryDriver(o), nil
}

// podConfig decodes CRI's PodSandboxConfig from the CreateSandbox options;
// an empty config when containerd sent none (not through CRI).
func podConfig(a *anypb.Any) (*runtime.PodSandboxConfig, error) {
	cfg := &runtime.PodSandboxConfig{}
	name := string(proto.MessageName(cfg))
	if u := a.GetTypeUrl(); u != "" && u != name && !strings.HasSuffix(u, "/"+name) {
		return nil, driver.InvalidArgumentf("sandbox options of type %q: the rtd shim takes CRI's %s", u, name)
	}
	if len(a.GetValue()) == 0 {
		return cfg, nil
	}
	if err := proto.Unmarshal(a.GetValue(), cfg); err != nil {
		return nil, driver.InvalidArgumentf("sandbox options: malformed %s: %v", name, err)
	}
	return cfg, nil
}

// sandboxSpecOf makes the driver's sandbox spec of pod id from CRI's
// config: hostname, DNS, the network namespace CRI made (and CNI
// attached), the namespaces the pod shares (uts always, ipc unless the
// host's, pid when the pod shares one), its resources and annotations.
func sandboxSpecOf(id, netns string, cfg *runtime.PodSandboxConfig, annotations map[string]string) *driver.SandboxSpec {
	spec := &driver.SandboxSpec{ID: id, Hostname: cfg.GetHostname(), NetNSPath: netns, Annotations: map[string]string{}}
	if dns := cfg.GetDnsConfig(); dns != nil {
		spec.DNS = driver.DNS{Servers: dns.GetServers(), Searches: dns.GetSearches(), Options: dns.GetOptions()}
	}
	nsOpts := cfg.GetLinux().GetSecurityContext().GetNamespaceOptions()
	if nsOpts.GetNetwork() == runtime.NamespaceMode_NODE && netns == "" {
		spec.NetNSPath = hostNetNS()
	}
	spec.Namespaces = []specs.LinuxNamespaceType{specs.UTSNamespace}
	if nsOpts.GetIpc() != runtime.NamespaceMode_NODE {
		spec.Namespaces = append(spec.Namespaces, specs.IPCNamespace)
	}
	// CRI names the sandbox's pid namespace in its containers' specs
	// (/proc/PID/ns/pid, PID the sandbox's) only in the pod's POD mode: the
	// sandbox must then have one of its own.
	if nsOpts.GetPid() == runtime.NamespaceMode_POD {
		spec.Namespaces = append(spec.Namespaces, specs.PIDNamespace)
	}
	if r := cfg.GetLinux().GetResources(); r != nil {
		var res specs.LinuxResources
		if r.GetCpuQuota() > 0 && r.GetCpuPeriod() > 0 {
			period, quota := uint64(r.GetCpuPeriod()), r.GetCpuQuota()
			res.CPU = &specs.LinuxCPU{Period: &period, Quota: &quota}
		}
		if r.GetCpuShares() > 0 {
			if res.CPU == nil {
				res.CPU = &specs.LinuxCPU{}
			}
			shares := uint64(r.GetCpuShares())
			res.CPU.Shares = &shares
		}
		if r.GetMemoryLimitInBytes() > 0 {
			limit := r.GetMemoryLimitInBytes()
			res.Memory = &specs.LinuxMemory{Limit: &limit}
		}
		if res.CPU != nil || res.Memory != nil {
			spec.Resources = &res
		}
	}
	for k, v := range cfg.GetAnnotations() {
		spec.Annotations[k] = v
	}
	for k, v := range annotations {
		spec.Annotations[k] = v
	}
	spec.Annotations[criSandboxID] = id
	if m := cfg.GetMetadata(); m != nil {
		spec.Annotations["io.kubernetes.cri.sandbox-name"] = m.GetName()
		spec.Annotations["io.kubernetes.cri.sandbox-namespace"] = m.GetNamespace()
		spec.Annotations["io.kubernetes.cri.sandbox-uid"] = m.GetUid()
	}
	return spec
}
