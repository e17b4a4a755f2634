package driver

import (
	"context"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Sandboxes (pods) are an optional part of contract v1, added after it was
// first published: a driver claims them with Capabilities.Sandboxes and
// implements SandboxDriver besides Driver. A driver that does not is
// unchanged: Serve answers its sandbox methods NotImplemented, and a
// CreateRequest naming a sandbox FailedPrecondition. See
// docs/driver-authors.md.

// SandboxDriver is implemented by drivers that run sandboxes: a set of
// shared namespaces (linux), one VM (vm) or one user-space kernel (gvisor)
// that several containers are created in (CreateRequest.SandboxID). Client
// implements it.
type SandboxDriver interface {
	// CreateSandbox sets a sandbox up from spec; it is ready for containers
	// once started.
	CreateSandbox(ctx context.Context, spec *SandboxSpec) (*Sandbox, error)
	StartSandbox(ctx context.Context, id string) (*Sandbox, error)
	SandboxStatus(ctx context.Context, id string) (*Sandbox, error)
	// WaitSandbox blocks until the sandbox has stopped; it can be called
	// many times, also after the stop.
	WaitSandbox(ctx context.Context, id string) (*ExitStatus, error)
	// StopSandbox stops every container of the sandbox (SIGTERM, SIGKILL
	// after the timeout; 0 for 10s) and then the sandbox; its records stay
	// until ShutdownSandbox.
	StopSandbox(ctx context.Context, req *StopSandboxRequest) error
	// ShutdownSandbox deletes the sandbox and all it holds (processes,
	// namespaces, mounts, cgroups). Containers of it still running make it
	// fail with FailedPrecondition unless Force (then they are killed);
	// stopped containers of it are deleted with it. Unknown id: NotFound.
	ShutdownSandbox(ctx context.Context, req *ShutdownSandboxRequest) error
	ListSandboxes(ctx context.Context) ([]*Sandbox, error)
	// SandboxMetrics is the resource usage of the whole sandbox.
	SandboxMetrics(ctx context.Context, id string) (*Stats, error)
}

// SandboxNamespaces are the namespaces besides the network one that a
// sandbox can share between its containers (runtime-spec names).
var SandboxNamespaces = []specs.LinuxNamespaceType{specs.IPCNamespace, specs.UTSNamespace, specs.PIDNamespace}

// SandboxSpec is what a sandbox is made from.
type SandboxSpec struct {
	ID       string
	Hostname string
	DNS      DNS
	// NetNSPath is the network namespace the sandbox uses (as CNI attached
	// it); "" makes the sandbox a new one with only a loopback interface.
	NetNSPath string
	// Namespaces shared besides the network one ("ipc", "uts", "pid").
	Namespaces []specs.LinuxNamespaceType
	// Resources limit the whole sandbox; nil for none.
	Resources *specs.LinuxResources
	// CgroupParent is where the sandbox's cgroup goes; "" for the driver's
	// default.
	CgroupParent string
	Annotations  map[string]string
}

// DNS is the resolver configuration of a sandbox's containers.
type DNS struct {
	Servers  []string
	Searches []string
	Options  []string
}

// Sandbox is a snapshot of one sandbox. Status is StatusCreated,
// StatusRunning (ready for containers) or StatusStopped.
type Sandbox struct {
	ID     string
	Status Status
	// Pid is the host pid of what holds the sandbox (a holder process, a
	// VMM), 0 when none.
	Pid uint32
	// NetNSPath is the network namespace the containers share, a host path
	// ("" when not on the host).
	NetNSPath string
	// Containers are the ids of the containers created in the sandbox and
	// not deleted yet.
	Containers  []string
	Exit        *ExitStatus
	Annotations map[string]string
	CreatedAt   time.Time
	Hostname    string
	// CgroupPath is the sandbox's cgroup ("" when none on the host).
	CgroupPath string
}

// StopSandboxRequest stops a sandbox and its containers.
type StopSandboxRequest struct {
	ID      string
	Timeout time.Duration
}

// ShutdownSandboxRequest deletes a sandbox.
type ShutdownSandboxRequest struct {
	ID    string
	Force bool
}

// NoSandboxes is the error for a sandbox asked of a driver that does not
// claim them: FailedPrecondition naming the driver and what to use instead.
func NoSandboxes(driverName, op string) error {
	if driverName == "" {
		driverName = "this driver"
	} else {
		driverName = "driver " + driverName
	}
	return FailedPreconditionf("%s: %s does not run sandboxes (pods): it lacks the sandboxes capability; "+
		"use a driver that has it (rtd drivers shows the capabilities) or run the container without a pod", op, driverName)
}
