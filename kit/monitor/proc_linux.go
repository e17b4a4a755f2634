//go:build linux

package monitor

import (
	"os"
	"os/exec"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/monitor/proc"
)

// The monitor process's types, for the driver side (package proc).
type (
	// Layout is the state directory of a driver.
	Layout = proc.Layout
	// Request is what a monitor runs (request.json).
	Request = proc.Request
	// PidRecord identifies a process across pid reuse.
	PidRecord = proc.PidRecord
	// Monitor is the monitor process's view of its workload.
	Monitor = proc.Monitor
	// Backend starts one workload for a monitor.
	Backend = proc.Backend
)

// Name is the process name of every monitor.
const Name = proc.Name

// StdioOf converts the contract's stdio to a monitor request's.
func StdioOf(s driver.Stdio) proc.Stdio { return proc.Stdio(s) }

// ReadRequest reads a process dir's request.json (proc.ReadRequest).
func ReadRequest(dir string) (Request, error) { return proc.ReadRequest(dir) }

// WriteRequest writes a process dir's request.json (proc.WriteRequest).
func WriteRequest(dir string, r Request) error { return proc.WriteRequest(dir, r) }

// ReadPidRecord reads the pid file of a process dir.
func ReadPidRecord(dir string) (PidRecord, error) { return proc.ReadPidRecord(dir) }

// ErrorClass names the errdefs class of err (ClassedError restores it).
func ErrorClass(err error) string { return proc.ErrorClass(err) }

// IsMonitor reports whether this process was started as a monitor.
func IsMonitor() bool { return proc.IsMonitor() }

// Main is the monitor process's main (proc.Main).
func Main(b Backend) int { return proc.Main(b) }

// ClassedError turns a message and the class name ErrorClass gave back into
// an error of that errdefs class.
func ClassedError(class, msg string) error { return proc.ClassedError(class, msg) }

// SetCmdStdio gives cmd the workload's ends of Monitor.Stdio that are not
// nil (proc.SetCmdStdio).
func SetCmdStdio(cmd *exec.Cmd, in, out, errw *os.File) { proc.SetCmdStdio(cmd, in, out, errw) }
