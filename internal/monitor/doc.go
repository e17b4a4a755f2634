// Package monitor is the per-process monitor rtd's Linux drivers share, in
// the style of containerd's shims and conmon: a small process, re-executed
// from the driver binary and named "rtd-monitor", that starts one workload
// (a container's init or an exec'd process) through a Backend, becomes its
// subreaper, holds its stdio, and writes its exit status to the process
// directory. The driver process keeps no state in memory and may die at any
// time; a new driver process finds everything on disk and reaches live
// monitors on their control sockets.
//
// The driver side of the package (Spawn, Wait, Control, Layout) is used by
// the driver process; Run is the monitor process's main.
package monitor
