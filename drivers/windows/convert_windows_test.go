//go:build windows

package windows

import (
	"encoding/json"
	"syscall"
	"testing"
)

// TestToHCSKeepsEveryField marshals a fully populated mirror and its hcsshim
// conversion: HCS receives exactly what the portable tests checked.
func TestToHCSKeepsEveryField(t *testing.T) {
	c := &ContainerConfig{
		SystemType: "Container", Name: "c1", Owner: Owner, VolumePath: "v", IgnoreFlushesDuringBoot: true,
		LayerFolderPath: "s", Layers: []Layer{{ID: "g", Path: "p"}}, Credentials: "cs", ProcessorCount: 1,
		ProcessorWeight: 2, ProcessorMaximum: 3, StorageIOPSMaximum: 4, StorageBandwidthMaximum: 5,
		StorageSandboxSize: 6, MemoryMaximumInMB: 7, HostName: "h",
		MappedDirectories: []MappedDir{{HostPath: "a", ContainerPath: "b", ReadOnly: true, BandwidthMaximum: 1, IOPSMaximum: 2, CreateInUtilityVM: true, LinuxMetadata: true}},
		MappedPipes:       []MappedPipe{{HostPath: "p", ContainerPipeName: "q"}},
		HvPartition:       true, NetworkSharedContainerName: "n", EndpointList: []string{"e"},
		HvRuntime: &HvRuntime{ImagePath: "i", SkipTemplate: true, LinuxInitrdFile: "r", LinuxKernelFile: "k", LinuxBootParameters: "b", BootSource: "s", WritableBootSource: true},
		Servicing: true, AllowUnqualifiedDNSQuery: true, DNSSearchList: "d",
		AssignedDevices: []AssignedDevice{{InterfaceClassGUID: "g"}},
	}
	mine, _ := json.Marshal(c)
	theirs, _ := json.Marshal(toHCS(c))
	var a, b map[string]any
	_ = json.Unmarshal(mine, &a)
	_ = json.Unmarshal(theirs, &b)
	if len(a) != len(b) || string(mine) != string(theirs) {
		t.Fatalf("mirror %s\nhcsshim %s", mine, theirs)
	}
	p := &ProcessConfig{ApplicationName: "a", CommandLine: "c", User: "u", WorkingDirectory: "w", Environment: map[string]string{"k": "v"},
		EmulateConsole: true, CreateStdInPipe: true, CreateStdOutPipe: true, CreateStdErrPipe: true, ConsoleSize: [2]uint{1, 2}}
	mine, _ = json.Marshal(p)
	theirs, _ = json.Marshal(toHCSProcess(p))
	if string(mine) != string(theirs) {
		t.Fatalf("mirror %s\nhcsshim %s", mine, theirs)
	}
}

func TestEscapeArgMatchesSyscall(t *testing.T) {
	for _, s := range []string{"", "a", `a b`, `"`, `\"`, `a\`, `a b\`, `C:\Program Files\x\`, "tab\t", `\\x`} {
		if got, want := EscapeArg(s), syscall.EscapeArg(s); got != want {
			t.Errorf("EscapeArg(%q) = %q, syscall says %q", s, got, want)
		}
	}
}
