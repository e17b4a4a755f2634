// Package linux is the rtd driver for Linux process isolation, built on
// runc's libcontainer (namespaces, cgroups v1 or v2, seccomp).
//
// Every container (and every exec'd process) is owned by a small monitor
// process named "rtd-monitor": it is the parent and subreaper of the
// workload, holds its stdio, and writes the exit status to the container's
// state directory. The driver process itself holds no container state in
// memory, so it can exit or be killed at any time without losing a
// container or its exit status.
package linux
