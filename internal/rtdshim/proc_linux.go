//go:build linux

package rtdshim

import (
	"context"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// stdio is how containerd named a process's streams (FIFO paths, or
// file:// URIs), kept for State.
type stdio struct {
	Stdin, Stdout, Stderr string
	Terminal              bool
}

// proc is the init process (execID "") or an exec of a container.
type proc struct {
	id     string // container id
	execID string
	io     stdio
	spec   *specs.Process // exec only, until started

	mu      sync.Mutex
	pid     uint32
	started bool
	exit    *driver.ExitStatus
	exited  chan struct{} // closed once exit is set and TaskExit queued

	// counted is set (under the container's mu) while the exec counts in
	// the container's running execs.
	counted bool
}

func newProc(id, execID string, io stdio) *proc {
	return &proc{id: id, execID: execID, io: io, exited: make(chan struct{})}
}

// taskID is the id containerd uses for the process: the container id for
// the init process, else the exec id.
func (p *proc) taskID() string {
	if p.execID == "" {
		return p.id
	}
	return p.execID
}

func (p *proc) getPid() uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

func (p *proc) isStarted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.started
}

func (p *proc) setStarted(pid uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pid != 0 {
		p.pid = pid
	}
	p.started = true
}

// exitStatus is the exit once published, else nil.
func (p *proc) exitStatus() *driver.ExitStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exit
}

// container is one task: its driver, its rootfs and its processes.
type container struct {
	id     string
	bundle string
	drv    *core.Plugin
	caps   driver.Capabilities
	// rootfs is the directory the shim mounted containerd's rootfs mounts
	// on ("" when containerd gave none).
	rootfs string
	// sandbox is the driver sandbox this container (a CRI pod's pause
	// container, with the option pods = "sandbox") created and removes
	// when it is deleted; "" for none.
	sandbox string
	init    *proc
	// cancel stops the exit watches of this container's processes.
	cancel context.CancelFunc
	ctx    context.Context

	mu    sync.Mutex
	execs map[string]*proc
	// running counts started execs whose exit has not been published; the
	// init's exit waits for them (an exec's exit comes before its init's).
	running     int
	pendingInit *driver.ExitStatus
	oomSent     bool
}

func (c *container) proc(execID string) *proc {
	if execID == "" {
		return c.init
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.execs[execID]
}
