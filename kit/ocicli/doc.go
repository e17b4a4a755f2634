// Package ocicli drives a runc-compatible runtime CLI (runc, runsc, runj,
// crun) with typed errors: create, start, state, kill, delete, exec, pause,
// resume, ps, update. It wraps github.com/containerd/go-runc and adds what
// it lacks: errdefs classes derived from the runtime's own messages, and the
// runtime's log lines of the failed call in errors.
//
// There is deliberately no Wait: runsc's `wait` cannot report the exit of a
// root container once its sandbox is gone, so drivers learn exit status by
// being the subreaper of the runtime's processes.
//
// Driving a CLI, a driver does not own the workload process: runc forks
// it and exits. To keep containers alive across a driver crash and still
// learn their exit status, run each container under a per-container
// monitor that is the subreaper of the runtime's processes.
package ocicli
