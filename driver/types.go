package driver

import (
	"context"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ContractVersion is the version of the driver contract this SDK speaks. It
// is also the go-plugin protocol version used in the handshake.
const ContractVersion = 1

// Status is the lifecycle state of a container, as in the OCI runtime spec.
type Status string

// Container statuses.
const (
	StatusUnknown Status = "unknown"
	StatusCreated Status = "created"
	StatusRunning Status = "running"
	StatusPaused  Status = "paused"
	StatusStopped Status = "stopped"
)

// Info describes a driver: who it is, what it isolates, what it can do and
// whether it can run containers on this host right now.
type Info struct {
	Name            string
	Version         string
	ContractVersion int
	OS              string
	Arch            string
	Isolation       Isolation
	Capabilities    Capabilities
	Health          Health
}

// Health is probed on the host when Info is called, never declared.
type Health struct {
	Ready bool
	// Reason says, when not ready, what is missing in words a person can act
	// on ("runsc not found in PATH").
	Reason string
}

// Capabilities lists the optional contract methods a driver implements. A
// claimed capability must pass its conformance cases; an unclaimed one must
// answer NotImplemented.
type Capabilities struct {
	Exec       bool
	Terminal   bool // tty for the init process and, with Exec, for exec
	ResizePty  bool
	CloseIO    bool
	Pause      bool // Pause and Resume
	Stats      bool
	Update     bool
	Pids       bool
	Events     bool
	Checkpoint bool // Checkpoint and Restore
	// StatsFields names the Stats fields really measured ("cpu", "memory", "pids").
	StatsFields []string
	// NetworkNamespace: Create joins the network namespace the spec names by
	// path, which the core makes per container for bridge and user networks.
	NetworkNamespace bool
	// Sandboxes: the driver implements SandboxDriver (pods) and
	// CreateRequest.SandboxID.
	Sandboxes bool
}

// Mount is a filesystem to mount as (part of) the container's root, in the
// containerd style: mounted in order onto the bundle's rootfs directory.
type Mount struct {
	Type    string
	Source  string
	Target  string
	Options []string
}

// Stdio names host paths (regular files or FIFOs) for the standard streams.
// An empty path means /dev/null. With Terminal, Stdout carries the terminal
// output and Stderr is unused.
type Stdio struct {
	Stdin    string
	Stdout   string
	Stderr   string
	Terminal bool
}

// CreateRequest asks a driver to create (not start) a container from an OCI
// bundle directory holding config.json.
type CreateRequest struct {
	ID          string
	Bundle      string
	Rootfs      []Mount
	Stdio       Stdio
	Annotations map[string]string
	// SandboxID is the sandbox to create the container in (created and
	// started); "" for a container of its own. Only for drivers claiming
	// Capabilities.Sandboxes.
	SandboxID string
}

// CreateResponse reports the pid of the container's init process as seen
// from the host (0 when the backend has no host pid).
type CreateResponse struct {
	Pid uint32
}

// State is a snapshot of one container.
type State struct {
	ID     string
	Bundle string
	Status Status
	Pid    uint32
	// Exit is set once the container has stopped.
	Exit *ExitStatus
	// Annotations are those given to Create.
	Annotations map[string]string
	CreatedAt   time.Time
	// SandboxID is the sandbox the container was created in, "" for none.
	SandboxID string
}

// ExitStatus is how a process ended.
type ExitStatus struct {
	// Code is the exit code, or 128+signal when a signal killed the process
	// (the shell convention, as docker and containerd report it).
	Code uint32
	// Signal is the signal that killed the process, 0 when it exited.
	Signal    int32
	OOMKilled bool
	ExitedAt  time.Time
	// Reason explains an abnormal end the code alone does not (the monitor
	// or VM died, the exit status could not be read).
	Reason string
}

// WaitRequest names the process to wait for: the container's init process
// when ExecID is empty.
type WaitRequest struct {
	ID     string
	ExecID string
}

// KillRequest sends Signal to the init process (or ExecID), or with All to
// every process of the container.
type KillRequest struct {
	ID     string
	ExecID string
	Signal uint32
	All    bool
}

// DeleteRequest removes a stopped container; Force kills it first.
type DeleteRequest struct {
	ID    string
	Force bool
}

// ExecRequest starts an additional process inside a running container.
type ExecRequest struct {
	ID      string
	ExecID  string
	Process *specs.Process
	Stdio   Stdio
}

// ExecResponse reports the host pid of the started process.
type ExecResponse struct {
	Pid uint32
}

// ResizePtyRequest changes the terminal size of the init process (or ExecID).
type ResizePtyRequest struct {
	ID     string
	ExecID string
	Width  uint32
	Height uint32
}

// CloseIORequest closes the stdin of the init process (or ExecID).
type CloseIORequest struct {
	ID     string
	ExecID string
}

// Stats holds resource usage; Fields names those really measured.
type Stats struct {
	Fields           []string
	CPUUsageNanos    uint64
	MemoryUsageBytes uint64
	MemoryLimitBytes uint64
	PidsCurrent      uint64
	PidsLimit        uint64
}

// UpdateRequest changes the resources of a running container.
type UpdateRequest struct {
	ID        string
	Resources *specs.LinuxResources
}

// ProcessInfo is one process of a container.
type ProcessInfo struct {
	Pid    uint32
	ExecID string
}

// EventType names a lifecycle event.
type EventType string

// Event types, in the order a container emits them.
const (
	EventCreate EventType = "create"
	EventStart  EventType = "start"
	EventExec   EventType = "exec"
	EventOOM    EventType = "oom"
	EventPause  EventType = "pause"
	EventResume EventType = "resume"
	EventExit   EventType = "exit"
	EventDelete EventType = "delete"
)

// Event is one entry of the ordered event stream.
type Event struct {
	Type   EventType
	ID     string
	ExecID string
	Pid    uint32
	// Exit is set on exit events (the monitor's record: code, signal,
	// oom_killed, exited_at) and on delete events.
	Exit *ExitStatus
	// Timestamp is when the driver journaled the event; it never goes back
	// in stream order. An exit's own time is Exit.ExitedAt.
	Timestamp time.Time
	// Seq is the event's position in the driver's journal: 1, 2, 3, ... in
	// stream order, stable across driver restarts (0 from a driver without
	// a journal). Pass the last one seen as EventsRequest.After to resume.
	Seq uint64
}

// EventsRequest says where an event stream starts. The zero value streams
// only events journaled after the call began; After or Since replays the
// journal first (drivers implementing EventReplayer), so a subscriber that
// reconnects, also to a relaunched driver, misses nothing and sees nothing
// twice.
type EventsRequest struct {
	// After replays events with Seq > After.
	After uint64
	// Since replays events with Timestamp >= Since; take it before the
	// first call that should produce an event (e.g. before Create).
	Since time.Time
}

// IsZero reports whether r asks for live events only.
func (r *EventsRequest) IsZero() bool { return r == nil || (r.After == 0 && r.Since.IsZero()) }

// EventReplayer is implemented by drivers whose events are journaled and can
// be replayed from a cursor (EventsRequest). Serve uses it for every Events
// call when the driver has it; a driver without it answers a request with a
// cursor NotImplemented. Client implements it.
type EventReplayer interface {
	// EventsFrom replays the journal from req's cursor, then streams new
	// events to fn until ctx is done or fn returns an error.
	EventsFrom(ctx context.Context, req *EventsRequest, fn func(*Event) error) error
}

// CheckpointRequest writes the container's state to a directory.
type CheckpointRequest struct {
	ID           string
	Path         string
	LeaveRunning bool
}

// RestoreRequest creates and starts a container from a checkpoint.
type RestoreRequest struct {
	Create CreateRequest
	Path   string
}
