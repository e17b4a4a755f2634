//go:build linux

package proc

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/containerd/errdefs"
)

// Layout is the state directory of a driver:
//
//	<state>/c/<id>/                  the container's process dir (init)
//	<state>/c/<id>/exec/<exec-id>/   one process dir per exec
//	<state>/s/<hash>.sock            monitor control sockets (short paths)
//
// A process dir holds request.json (what the monitor runs), pid (pid and
// start time of the workload), exit.json (its exit status, written once) and
// monitor.log. Backends keep their own state next to it (e.g. <state>/lc).
type Layout struct{ Root string }

// ContainersDir holds one process dir per container.
func (l Layout) ContainersDir() string { return filepath.Join(l.Root, "c") }

// ContainerDir is the process dir of a container's init.
func (l Layout) ContainerDir(id string) string { return filepath.Join(l.Root, "c", id) }

// ProcDir is the process dir of the init (execID "") or of an exec.
func (l Layout) ProcDir(id, execID string) string {
	if execID == "" {
		return l.ContainerDir(id)
	}
	return filepath.Join(l.ContainerDir(id), "exec", execID)
}

// ExecIDs lists the exec ids of a container.
func (l Layout) ExecIDs(id string) []string {
	entries, _ := os.ReadDir(filepath.Join(l.ContainerDir(id), "exec"))
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// SocketPath is short on purpose: unix socket paths are limited to 108 bytes.
func (l Layout) SocketPath(id, execID string) string {
	sum := sha256.Sum256([]byte(id + "\x00" + execID))
	return filepath.Join(l.Root, "s", hex.EncodeToString(sum[:8])+".sock")
}

// Stdio is driver.Stdio (same fields: convert with proc.Stdio(s)): host
// paths of the workload's streams, or a terminal.
type Stdio struct {
	Stdin    string
	Stdout   string
	Stderr   string
	Terminal bool
}

// Request is what a monitor runs; it is written to request.json in the
// process dir before the monitor starts.
type Request struct {
	// Version is the record format (FormatVersion; 0 before it existed).
	Version     int `json:",omitempty"`
	ID          string
	ExecID      string            `json:",omitempty"`
	Bundle      string            `json:",omitempty"`
	Annotations map[string]string `json:",omitempty"`
	Process     *specs.Process    `json:",omitempty"`
	Stdio       Stdio
	CreatedAt   int64 // unix nanoseconds
	// Backend holds what a backend needs beyond the above.
	Backend json.RawMessage `json:",omitempty"`
}

// ErrorClass names the errdefs class of err, to carry it through a pipe or
// a file between processes (ClassedError restores it).
func ErrorClass(err error) string {
	switch {
	case errdefs.IsNotFound(err):
		return "not_found"
	case errdefs.IsAlreadyExists(err):
		return "already_exists"
	case errdefs.IsInvalidArgument(err):
		return "invalid_argument"
	case errdefs.IsFailedPrecondition(err):
		return "failed_precondition"
	case errdefs.IsUnavailable(err):
		return "unavailable"
	case errdefs.IsPermissionDenied(err):
		return "permission_denied"
	case errdefs.IsNotImplemented(err):
		return "not_implemented"
	}
	return ""
}

// ClassedError turns a message and the name ErrorClass gave back into an
// error of that errdefs class.
func ClassedError(class, msg string) error {
	cls := map[string]error{
		"not_found":           errdefs.ErrNotFound,
		"already_exists":      errdefs.ErrAlreadyExists,
		"invalid_argument":    errdefs.ErrInvalidArgument,
		"failed_precondition": errdefs.ErrFailedPrecondition,
		"unavailable":         errdefs.ErrUnavailable,
		"permission_denied":   errdefs.ErrPermissionDenied,
		"not_implemented":     errdefs.ErrNotImplemented,
	}[class]
	if cls == nil {
		return errors.New(msg)
	}
	return classedError{msg: msg, class: cls}
}

// classedError carries a message that already names its class.
type classedError struct {
	msg   string
	class error
}

func (e classedError) Error() string { return e.msg }
func (e classedError) Unwrap() error { return e.class }
