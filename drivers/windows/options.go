package windows

import (
	"runtime"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
)

// IsolationEnv names the environment variable that sets the driver's
// isolation mode ("process", the default, or "hyperv").
const IsolationEnv = "RTD_WINDOWS_ISOLATION"

// Owner is the HCS owner of every compute system the driver creates.
const Owner = "rtd"

// Mode is how the driver isolates containers.
type Mode string

// Isolation modes.
const (
	// ModeProcess runs a container in a server silo on the host kernel,
	// unless its spec asks for Hyper-V (windows.hyperv), which is honoured.
	ModeProcess Mode = "process"
	// ModeHyperV runs every container in a Hyper-V utility VM, whether or
	// not its spec has a windows.hyperv section.
	ModeHyperV Mode = "hyperv"
)

// ParseMode parses an isolation mode; "" is ModeProcess. "vm" is accepted
// as a synonym of "hyperv".
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "process":
		return ModeProcess, nil
	case "hyperv", "hyper-v", "vm":
		return ModeHyperV, nil
	}
	return "", driver.InvalidArgumentf("%s=%q: want process or hyperv", IsolationEnv, s)
}

// Options configure a Driver.
type Options struct {
	// StateDir holds the driver's container records; default
	// %ProgramData%\rtd\drivers\windows on Windows.
	StateDir string
	// Isolation is the mode as text (see ParseMode); an invalid value makes
	// the driver report "not ready" with the reason.
	Isolation string
	Logger    hclog.Logger
	// Version is reported by Info; default "dev".
	Version string
}

// isolation is the descriptor Info reports for a mode. It is the floor of
// what the driver creates: in process mode a container whose spec asks for
// Hyper-V still gets Hyper-V.
func isolation(m Mode) driver.Isolation {
	common := []string{
		"seccomp, Linux capabilities and user namespaces do not exist on Windows; the spec's linux section is ignored",
		"HCS schema v1 through hcsshim's public API: no CPU affinity, no network namespaces (use endpoint lists)",
		"stdio is copied by the driver process: output written while the driver is not running is lost",
		"not run on a Windows host by rtd's developers: compiled and vetted only",
	}
	if m == ModeHyperV {
		return driver.Isolation{
			Class:              driver.IsolationVM,
			SharesHostKernel:   false,
			GuestKernel:        "Windows kernel of the image's utility VM (UtilityVM folder of the base layer)",
			SyscallFilter:      "none: the workload's system calls reach the utility VM's kernel, not the host's",
			CapabilityModel:    "Windows accounts and privileges inside the utility VM (ContainerUser / ContainerAdministrator)",
			ResourceAccounting: "Hyper-V utility VM sized by HCS (memory, processor count/weight/maximum)",
			Platform:           "hyper-v (HCS)",
			KnownGaps:          append([]string{"device assignment is not supported with Hyper-V isolation"}, common...),
		}
	}
	return driver.Isolation{
		Class:              driver.IsolationProcess,
		SharesHostKernel:   true,
		SyscallFilter:      "none: a server silo shares the host kernel without a system call filter",
		CapabilityModel:    "Windows accounts and privileges in the silo (ContainerUser / ContainerAdministrator)",
		ResourceAccounting: "host job object managed by HCS (memory, processor count/weight/maximum, storage)",
		Platform:           "process isolation (HCS server silo)",
		KnownGaps: append([]string{
			"shares the host kernel: a kernel exploit escapes the container",
			"the container image's Windows build must match the host's",
		}, common...),
	}
}

// info is the Info every build of the driver returns, with its health.
func info(version string, m Mode, h driver.Health) *driver.Info {
	if m == "" {
		m = ModeProcess
	}
	return &driver.Info{
		Name:            "windows",
		Version:         version,
		ContractVersion: driver.ContractVersion,
		OS:              runtime.GOOS,
		Arch:            runtime.GOARCH,
		Isolation:       isolation(m),
		Health:          h,
	}
}
