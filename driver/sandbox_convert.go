package driver

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	driverv1 "github.com/rtd-project/rtd/api/driver/v1"
)

// Conversions of the sandbox messages; total, as those in convert.go.

func namespacesToProto(ns []specs.LinuxNamespaceType) []string {
	if len(ns) == 0 {
		return nil
	}
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = string(n)
	}
	return out
}

func namespacesFromProto(ns []string) []specs.LinuxNamespaceType {
	if len(ns) == 0 {
		return nil
	}
	out := make([]specs.LinuxNamespaceType, len(ns))
	for i, n := range ns {
		out[i] = specs.LinuxNamespaceType(n)
	}
	return out
}

func sandboxSpecToProto(s *SandboxSpec) (*driverv1.SandboxSpec, error) {
	if s == nil {
		return &driverv1.SandboxSpec{}, nil
	}
	res, err := encodeJSON("sandbox resources", s.Resources)
	if err != nil {
		return nil, err
	}
	return &driverv1.SandboxSpec{
		Id:            s.ID,
		Hostname:      s.Hostname,
		DnsServers:    stringsCopy(s.DNS.Servers),
		DnsSearches:   stringsCopy(s.DNS.Searches),
		DnsOptions:    stringsCopy(s.DNS.Options),
		NetnsPath:     s.NetNSPath,
		Namespaces:    namespacesToProto(s.Namespaces),
		ResourcesJson: res,
		CgroupParent:  s.CgroupParent,
		Annotations:   mapCopy(s.Annotations),
	}, nil
}

func sandboxSpecFromProto(p *driverv1.SandboxSpec) (*SandboxSpec, error) {
	res, err := decodeJSON[specs.LinuxResources]("sandbox resources", p.GetResourcesJson())
	if err != nil {
		return nil, err
	}
	return &SandboxSpec{
		ID:       p.GetId(),
		Hostname: p.GetHostname(),
		DNS: DNS{
			Servers:  stringsCopy(p.GetDnsServers()),
			Searches: stringsCopy(p.GetDnsSearches()),
			Options:  stringsCopy(p.GetDnsOptions()),
		},
		NetNSPath:    p.GetNetnsPath(),
		Namespaces:   namespacesFromProto(p.GetNamespaces()),
		Resources:    res,
		CgroupParent: p.GetCgroupParent(),
		Annotations:  mapCopy(p.GetAnnotations()),
	}, nil
}

func sandboxToProto(s *Sandbox) *driverv1.Sandbox {
	if s == nil {
		return nil
	}
	return &driverv1.Sandbox{
		Id:          s.ID,
		Status:      string(s.Status),
		Pid:         s.Pid,
		NetnsPath:   s.NetNSPath,
		Containers:  stringsCopy(s.Containers),
		Exit:        exitToProto(s.Exit),
		Annotations: mapCopy(s.Annotations),
		CreatedAt:   timeToProto(s.CreatedAt),
		Hostname:    s.Hostname,
		CgroupPath:  s.CgroupPath,
	}
}

func sandboxFromProto(p *driverv1.Sandbox) *Sandbox {
	return &Sandbox{
		ID:          p.GetId(),
		Status:      Status(p.GetStatus()),
		Pid:         p.GetPid(),
		NetNSPath:   p.GetNetnsPath(),
		Containers:  stringsCopy(p.GetContainers()),
		Exit:        exitFromProto(p.GetExit()),
		Annotations: mapCopy(p.GetAnnotations()),
		CreatedAt:   timeFromProto(p.GetCreatedAt()),
		Hostname:    p.GetHostname(),
		CgroupPath:  p.GetCgroupPath(),
	}
}
