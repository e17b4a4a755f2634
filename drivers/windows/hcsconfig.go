package windows

// The types below mirror hcsshim's ContainerConfig and ProcessConfig (HCS
// schema v1, github.com/Microsoft/hcsshim/internal/hcs/schema1), which the
// root hcsshim package only declares on Windows. Mirroring them lets the
// translation run and be tested on every OS; on Windows, toHCS converts
// them field by field, so the compiler checks every name and type, and
// TestMirrorMatchesSchema1 checks names and JSON tags against hcsshim's
// source on any OS.

// Layer is one read-only image layer: its GUID and its folder.
type Layer struct {
	ID   string
	Path string
}

// MappedDir is a host directory mounted into the container.
type MappedDir struct {
	HostPath          string
	ContainerPath     string
	ReadOnly          bool
	BandwidthMaximum  uint64
	IOPSMaximum       uint64
	CreateInUtilityVM bool
	LinuxMetadata     bool `json:",omitempty"`
}

// MappedPipe is a host named pipe mapped into the container.
type MappedPipe struct {
	HostPath          string
	ContainerPipeName string
}

// HvRuntime holds the Hyper-V settings: the utility VM image folder.
type HvRuntime struct {
	ImagePath           string `json:",omitempty"`
	SkipTemplate        bool   `json:",omitempty"`
	LinuxInitrdFile     string `json:",omitempty"`
	LinuxKernelFile     string `json:",omitempty"`
	LinuxBootParameters string `json:",omitempty"`
	BootSource          string `json:",omitempty"`
	WritableBootSource  bool   `json:",omitempty"`
}

// AssignedDevice is a host device (by interface class GUID) assigned to a
// process-isolated container.
type AssignedDevice struct {
	InterfaceClassGUID string `json:"InterfaceClassGuid,omitempty"`
}

// ContainerConfig is the HCS schema v1 container configuration that
// hcsshim.CreateContainer takes.
type ContainerConfig struct {
	SystemType                 string
	Name                       string
	Owner                      string `json:",omitempty"`
	VolumePath                 string `json:",omitempty"`
	IgnoreFlushesDuringBoot    bool   `json:",omitempty"`
	LayerFolderPath            string `json:",omitempty"`
	Layers                     []Layer
	Credentials                string       `json:",omitempty"`
	ProcessorCount             uint32       `json:",omitempty"`
	ProcessorWeight            uint64       `json:",omitempty"`
	ProcessorMaximum           int64        `json:",omitempty"`
	StorageIOPSMaximum         uint64       `json:",omitempty"`
	StorageBandwidthMaximum    uint64       `json:",omitempty"`
	StorageSandboxSize         uint64       `json:",omitempty"`
	MemoryMaximumInMB          int64        `json:",omitempty"`
	HostName                   string       `json:",omitempty"`
	MappedDirectories          []MappedDir  `json:",omitempty"`
	MappedPipes                []MappedPipe `json:",omitempty"`
	HvPartition                bool
	NetworkSharedContainerName string           `json:",omitempty"`
	EndpointList               []string         `json:",omitempty"`
	HvRuntime                  *HvRuntime       `json:",omitempty"`
	Servicing                  bool             `json:",omitempty"`
	AllowUnqualifiedDNSQuery   bool             `json:",omitempty"`
	DNSSearchList              string           `json:",omitempty"`
	AssignedDevices            []AssignedDevice `json:",omitempty"`
}

// ProcessConfig is the HCS schema v1 process configuration that
// Container.CreateProcess takes.
type ProcessConfig struct {
	ApplicationName  string            `json:",omitempty"`
	CommandLine      string            `json:",omitempty"`
	User             string            `json:",omitempty"`
	WorkingDirectory string            `json:",omitempty"`
	Environment      map[string]string `json:",omitempty"`
	EmulateConsole   bool              `json:",omitempty"`
	CreateStdInPipe  bool              `json:",omitempty"`
	CreateStdOutPipe bool              `json:",omitempty"`
	CreateStdErrPipe bool              `json:",omitempty"`
	ConsoleSize      [2]uint           `json:",omitempty"`
}
