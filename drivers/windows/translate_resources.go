package windows

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

const (
	pipePrefix = `\\.\pipe\`
	mib        = 1 << 20
	// maxCPUFraction bounds cpu.shares and cpu.maximum (cycles per 10,000).
	maxCPUFraction = 10000
)

// resources maps windows.resources. HCS takes one of processor count,
// weight (shares) and maximum: like hcsshim's own OCI translation, asking
// for more than one is refused.
func resources(c *ContainerConfig, r *specs.WindowsResources, hostCPUs int) error {
	if r == nil {
		return nil
	}
	if m := r.Memory; m != nil && m.Limit != nil {
		if *m.Limit < mib {
			return driver.InvalidArgumentf("windows.resources.memory.limit %d: below 1 MiB", *m.Limit)
		}
		// HCS counts in MiB; round up so the container never gets less.
		c.MemoryMaximumInMB = int64((*m.Limit + mib - 1) / mib)
	}
	if cpu := r.CPU; cpu != nil {
		set := 0
		if cpu.Count != nil {
			set++
			if *cpu.Count == 0 {
				return driver.InvalidArgumentf("windows.resources.cpu.count is 0")
			}
			n := *cpu.Count
			if hostCPUs > 0 && n > uint64(hostCPUs) {
				n = uint64(hostCPUs)
			}
			c.ProcessorCount = uint32(min(n, 1<<31))
		}
		if cpu.Shares != nil {
			set++
			if *cpu.Shares > maxCPUFraction {
				return driver.InvalidArgumentf("windows.resources.cpu.shares %d: want 0..%d", *cpu.Shares, maxCPUFraction)
			}
			c.ProcessorWeight = uint64(*cpu.Shares)
		}
		if cpu.Maximum != nil {
			set++
			if *cpu.Maximum == 0 || *cpu.Maximum > maxCPUFraction {
				return driver.InvalidArgumentf("windows.resources.cpu.maximum %d: want 1..%d (percent times 100)", *cpu.Maximum, maxCPUFraction)
			}
			c.ProcessorMaximum = int64(*cpu.Maximum)
		}
		if set > 1 {
			return driver.InvalidArgumentf("windows.resources.cpu: count, shares and maximum are mutually exclusive on Windows")
		}
		if len(cpu.Affinity) > 0 {
			return driver.InvalidArgumentf("windows.resources.cpu.affinity needs HCS schema v2, which hcsshim's public API does not expose")
		}
	}
	if s := r.Storage; s != nil {
		if s.Iops != nil {
			c.StorageIOPSMaximum = *s.Iops
		}
		if s.Bps != nil {
			c.StorageBandwidthMaximum = *s.Bps
		}
		if s.SandboxSize != nil {
			c.StorageSandboxSize = *s.SandboxSize
		}
	}
	return nil
}

// network maps windows.network: HNS endpoints (GUIDs), DNS settings and a
// container whose network stack to share.
func network(c *ContainerConfig, n *specs.WindowsNetwork) error {
	if n == nil {
		return nil
	}
	if n.NetworkNamespace != "" {
		return driver.InvalidArgumentf("windows.network.networkNamespace needs HCS schema v2, which hcsshim's public API does not expose: use endpointList")
	}
	for _, e := range n.EndpointList {
		if !guidRE.MatchString(e) {
			return driver.InvalidArgumentf("windows.network.endpointList: %q is not an HNS endpoint GUID", e)
		}
	}
	if len(n.EndpointList) > 0 && n.NetworkSharedContainerName != "" {
		return driver.InvalidArgumentf("windows.network: endpointList and networkSharedContainerName are exclusive")
	}
	for _, s := range n.DNSSearchList {
		if s == "" || strings.ContainsAny(s, ", ") {
			return driver.InvalidArgumentf("windows.network.DNSSearchList: %q is not a DNS suffix", s)
		}
	}
	c.EndpointList = append([]string(nil), n.EndpointList...)
	c.AllowUnqualifiedDNSQuery = n.AllowUnqualifiedDNSQuery
	c.DNSSearchList = strings.Join(n.DNSSearchList, ",")
	c.NetworkSharedContainerName = n.NetworkSharedContainerName
	return nil
}

// devices maps windows.devices: interface classes assigned to a
// process-isolated container (Windows Server 2019 and later).
func devices(c *ContainerConfig, devs []specs.WindowsDevice, build uint16) error {
	if len(devs) == 0 {
		return nil
	}
	if c.HvPartition {
		return driver.InvalidArgumentf("windows.devices: device assignment is not supported with Hyper-V isolation")
	}
	if build != 0 && build < buildRS5 {
		return driver.InvalidArgumentf("windows.devices: device assignment needs Windows build %d or later, this is %d", buildRS5, build)
	}
	for _, d := range devs {
		if d.IDType != "class" {
			return driver.InvalidArgumentf("windows.devices: idType %q is not supported (want \"class\")", d.IDType)
		}
		if !guidRE.MatchString(d.ID) {
			return driver.InvalidArgumentf("windows.devices: %q is not an interface class GUID", d.ID)
		}
		c.AssignedDevices = append(c.AssignedDevices, AssignedDevice{InterfaceClassGUID: d.ID})
	}
	return nil
}

// mounts maps the spec's mounts: host directories (bind mounts, with "ro")
// and named pipes (destination \\.\pipe\NAME). Both ends must be absolute
// Windows paths; Linux mount types (proc, tmpfs, ...) are refused.
func mounts(c *ContainerConfig, ms []specs.Mount, build uint16) error {
	for _, m := range ms {
		if m.Type != "" && m.Type != "bind" {
			return driver.InvalidArgumentf("mount %s: type %q is not supported on Windows (want a bind mount, type \"\" or \"bind\")", m.Destination, m.Type)
		}
		if !IsAbsPath(m.Source) {
			return driver.InvalidArgumentf("mount %s: source %q is not an absolute Windows path", m.Destination, m.Source)
		}
		if !IsAbsPath(m.Destination) {
			return driver.InvalidArgumentf("mount destination %q is not an absolute Windows path", m.Destination)
		}
		readOnly := false
		for _, o := range m.Options {
			switch strings.ToLower(o) {
			case "ro":
				readOnly = true
			case "rw", "bind", "rbind":
			default:
				return driver.InvalidArgumentf("mount %s: option %q is not supported on Windows (want ro or rw)", m.Destination, o)
			}
		}
		if name, ok := cutPrefixFold(m.Destination, pipePrefix); ok {
			if name == "" || !strings.HasPrefix(strings.ToLower(m.Source), pipePrefix) {
				return driver.InvalidArgumentf("mount %s: a named pipe mount needs a host pipe source (\\\\.\\pipe\\NAME), got %q", m.Destination, m.Source)
			}
			if build != 0 && build < buildRS3 {
				return driver.InvalidArgumentf("mount %s: named pipe mounts need Windows build %d or later, this is %d", m.Destination, buildRS3, build)
			}
			c.MappedPipes = append(c.MappedPipes, MappedPipe{HostPath: m.Source, ContainerPipeName: name})
			continue
		}
		c.MappedDirectories = append(c.MappedDirectories, MappedDir{HostPath: m.Source, ContainerPath: m.Destination, ReadOnly: readOnly})
	}
	return nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
