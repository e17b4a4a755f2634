// Package wire is what the unikernel driver and the init of its linux
// guest (cmd/rtd-unikernel-init) agree on: the program the init runs and
// what it applies of the container's OCI spec, which the driver writes
// into the guest's initramfs as ProcessFile. The init links it, so it
// stays a package of plain types.
package wire

import "github.com/rtd-project/rtd/internal/guest"

// ProcessFile is where the init reads the Process, in its initramfs.
const ProcessFile = "/rtd/process.json"

// Process is what to run and how.
type Process struct {
	Args            []string
	Env             []string
	Cwd             string
	UID, GID        uint32
	AdditionalGids  []uint32
	Hostname        string
	ReadonlyRoot    bool
	Mounts          []Mount
	Rlimits         []Rlimit
	NoNewPrivileges bool
	Caps            *Caps `json:",omitempty"`
	// MemoryLimit and PidsLimit (0: none) go to the program's cgroup.
	MemoryLimit int64 `json:",omitempty"`
	PidsLimit   int64 `json:",omitempty"`
	// Binds: the binds disk (virtio serial "binds") holds bind sources.
	Binds bool `json:",omitempty"`
	// Net are the network interfaces to configure (virtio-net devices on
	// taps in the container's network namespace on the host).
	Net []guest.Interface `json:",omitempty"`
	// Drain is the end marker the init writes on rtd.stdout and
	// rtd.stderr after the program's last byte; it then waits for an ack
	// per stream on rtd.ctl, sent once the bytes before it left QEMU (the
	// host's monitor strips it: kit/monitor EndMarker).
	Drain string `json:",omitempty"`
}

// Mount is a mount of the spec that the guest makes: proc, sysfs, tmpfs,
// devpts, mqueue, devtmpfs for /dev, and bind mounts of the binds disk.
type Mount struct {
	Destination string
	Type        string
	Source      string // a bind's index on the binds disk
	Options     []string
}

// Rlimit is one process.rlimits entry (as the runtime spec encodes it).
type Rlimit struct {
	Type string `json:"type"`
	Hard uint64 `json:"hard"`
	Soft uint64 `json:"soft"`
}

// Caps are the process's capability sets by name.
type Caps struct {
	Bounding, Effective, Permitted, Inheritable, Ambient []string
}
