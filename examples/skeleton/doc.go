// Package skeleton is the smallest complete rtd driver: it drives the runc
// CLI through the kit (kit/ocicli, kit/ocispec, kit/statestore) and passes
// every MUST case of the conformance suite. Start a driver of your own from
// it; docs/driver-authors.md walks through it.
//
// Containers outlive the driver: Create re-executes the driver binary as a
// small per-container monitor (monitor_linux.go) in a session of its own.
// The monitor is the subreaper of runc's processes, so the container's init
// becomes its child; it feeds stdin and records the exit status in the
// state directory, where any later driver process finds it. The driver
// itself keeps no state in memory.
//
// It claims no optional capability (no exec, terminal, pause, stats): the
// SDK answers NotImplemented for those, and the suite skips their cases.
package skeleton
