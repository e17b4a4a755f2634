// Package monitor is the driver side of rtd's per-process monitors, which
// the Linux drivers share, in the style of containerd's shims and conmon: a
// process per workload (a container's init or an exec'd process), named
// "rtd-monitor", that starts it through a Backend (package proc), becomes
// its subreaper, holds its stdio and writes its exit status to the process
// directory (package watch). The driver process keeps no state in memory
// and may die at any time; a new driver process finds everything on disk and
// reaches live monitors on their control sockets.
//
// This package spawns monitors, waits for and signals their workloads and
// validates ids; it re-exports the layout and request types of package proc.
package monitor
