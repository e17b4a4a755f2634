// Package monitor is the per-container monitor of rtd's driver kit, the
// piece that lets containers outlive the driver process (ROBUST-001,
// ROBUST-002), in the style of containerd's shims and conmon. Every in-tree
// driver on Linux uses it, and an out-of-tree driver uses it the same way.
//
// A monitor is a process per workload (a container's init or an exec'd
// process), named "rtd-monitor", in a session of its own: the driver binary
// re-executed (its main calls Main when IsMonitor), or a smaller binary.
// It starts the workload through the driver's Backend (package proc),
// becomes its subreaper, holds its stdio (FIFOs opened without blocking,
// kept until all output is copied), answers the driver on a control socket
// (signal, resize, close stdin, wait) and writes its exit status to the
// process dir (package watch), with room reserved so that a full disk does
// not cost it. The driver process keeps no state in memory and may die at
// any time; a new driver process finds everything on disk and reaches live
// monitors on their sockets.
//
// The driver side:
//   - Containers is the lifecycle every monitor-based driver shares: check
//     ids and bundles, make process dirs, write requests and spawn monitors
//     (Launch), read a container's records (Record), List, Exec, Wait,
//     ResizePty, CloseIO and the delete lock. The driver keeps what is its
//     backend's own (start, kill, pause, delete of the backend's state).
//   - Spawn, Wait, Check, Signal, Resize, CloseStdin are the single steps,
//     for a driver that needs them apart (SpawnOptions: a monitor of the
//     driver's own, as the vm driver's).
//
// The records in a process dir (request.json, pid, monitor.pid, exit.json)
// carry a format version (proc.FormatVersion); records of older formats are
// read as they are, so rtd can be upgraded while containers run.
//
// The monitor exists on Linux only (it needs /proc, subreapers, pidfds).
package monitor
