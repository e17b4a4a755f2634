package driver

import (
	"context"
	"os"
	"sync"

	"github.com/hashicorp/go-plugin"
)

// Process is a driver process that Launch started: which binary, its pid,
// whether it is still alive, its last log lines, and Close to end it.
// Client returns the contract client that talks to it. Safe for concurrent
// use.
type Process struct {
	name       string
	path       string
	pid        int
	pc         *plugin.Client
	logs       *logRing
	stopProc   context.CancelFunc
	socketDir  string
	socketLock *os.File // flock on socketDir, held while the process lives
	closeOnce  sync.Once
	client     *Client
}

// Client is the contract client of this process. When the process has
// died, its calls fail with Unavailable, naming the driver with its last
// log lines.
func (p *Process) Client() *Client { return p.client }

// Name is the driver's name, as given to Launch.
func (p *Process) Name() string { return p.name }

// Path is the driver binary's path.
func (p *Process) Path() string { return p.path }

// Pid is the process id of the driver process.
func (p *Process) Pid() int { return p.pid }

// Exited reports whether the driver process has exited (or been closed).
func (p *Process) Exited() bool { return p.pc != nil && p.pc.Exited() }

// LastLogLines returns the last lines the driver process wrote on stderr,
// oldest first (hclog JSON lines are shown as "level: message key=value").
func (p *Process) LastLogLines() []string { return p.logs.lines() }

// Close shuts the driver process down (gracefully, then by killing it) and
// removes its socket directory. It does not touch containers: those must
// outlive the driver process (that is the driver's job, not the SDK's).
func (p *Process) Close() {
	p.closeOnce.Do(func() {
		if p.pc != nil {
			p.pc.Kill()
		}
		if p.stopProc != nil {
			p.stopProc()
		}
		removeSocketDir(p.socketDir)
		if p.socketLock != nil {
			p.socketLock.Close()
		}
	})
}
