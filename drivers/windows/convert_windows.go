//go:build windows

package windows

import (
	"github.com/Microsoft/hcsshim"
)

// toHCS converts the portable mirror into hcsshim's type, field by field so
// that the compiler checks every name and type against hcsshim.
func toHCS(c *ContainerConfig) *hcsshim.ContainerConfig {
	out := &hcsshim.ContainerConfig{
		SystemType:                 c.SystemType,
		Name:                       c.Name,
		Owner:                      c.Owner,
		VolumePath:                 c.VolumePath,
		IgnoreFlushesDuringBoot:    c.IgnoreFlushesDuringBoot,
		LayerFolderPath:            c.LayerFolderPath,
		Credentials:                c.Credentials,
		ProcessorCount:             c.ProcessorCount,
		ProcessorWeight:            c.ProcessorWeight,
		ProcessorMaximum:           c.ProcessorMaximum,
		StorageIOPSMaximum:         c.StorageIOPSMaximum,
		StorageBandwidthMaximum:    c.StorageBandwidthMaximum,
		StorageSandboxSize:         c.StorageSandboxSize,
		MemoryMaximumInMB:          c.MemoryMaximumInMB,
		HostName:                   c.HostName,
		HvPartition:                c.HvPartition,
		NetworkSharedContainerName: c.NetworkSharedContainerName,
		EndpointList:               c.EndpointList,
		Servicing:                  c.Servicing,
		AllowUnqualifiedDNSQuery:   c.AllowUnqualifiedDNSQuery,
		DNSSearchList:              c.DNSSearchList,
	}
	for _, l := range c.Layers {
		out.Layers = append(out.Layers, hcsshim.Layer{ID: l.ID, Path: l.Path})
	}
	for _, m := range c.MappedDirectories {
		out.MappedDirectories = append(out.MappedDirectories, hcsshim.MappedDir{
			HostPath: m.HostPath, ContainerPath: m.ContainerPath, ReadOnly: m.ReadOnly,
			BandwidthMaximum: m.BandwidthMaximum, IOPSMaximum: m.IOPSMaximum,
			CreateInUtilityVM: m.CreateInUtilityVM, LinuxMetadata: m.LinuxMetadata,
		})
	}
	for _, p := range c.MappedPipes {
		out.MappedPipes = append(out.MappedPipes, hcsshim.MappedPipe{HostPath: p.HostPath, ContainerPipeName: p.ContainerPipeName})
	}
	if h := c.HvRuntime; h != nil {
		out.HvRuntime = &hcsshim.HvRuntime{
			ImagePath: h.ImagePath, SkipTemplate: h.SkipTemplate, LinuxInitrdFile: h.LinuxInitrdFile,
			LinuxKernelFile: h.LinuxKernelFile, LinuxBootParameters: h.LinuxBootParameters,
			BootSource: h.BootSource, WritableBootSource: h.WritableBootSource,
		}
	}
	for _, d := range c.AssignedDevices {
		out.AssignedDevices = append(out.AssignedDevices, hcsshim.AssignedDevice{InterfaceClassGUID: d.InterfaceClassGUID})
	}
	return out
}

// toHCSProcess converts the portable process mirror into hcsshim's type.
func toHCSProcess(p *ProcessConfig) *hcsshim.ProcessConfig {
	return &hcsshim.ProcessConfig{
		ApplicationName:  p.ApplicationName,
		CommandLine:      p.CommandLine,
		User:             p.User,
		WorkingDirectory: p.WorkingDirectory,
		Environment:      p.Environment,
		EmulateConsole:   p.EmulateConsole,
		CreateStdInPipe:  p.CreateStdInPipe,
		CreateStdOutPipe: p.CreateStdOutPipe,
		CreateStdErrPipe: p.CreateStdErrPipe,
		ConsoleSize:      p.ConsoleSize,
	}
}
