// Package skeleton is the smallest complete rtd driver: it drives the runc
// CLI through the kit (kit/monitor, kit/ocicli, kit/ocispec) and passes
// every MUST case of the conformance suite. Start a driver of your own from
// it; docs/driver-authors.md walks through it.
//
// Containers outlive the driver: Create re-executes the driver binary as
// the kit's per-container monitor (kit/monitor, with kit/ocicli's
// Backend, which runs `runc create`) in a session of
// its own. The monitor is the subreaper of runc's processes, so the
// container's init becomes its child; it copies the stdio and records the
// exit status in the state directory, where any later driver process finds
// it. The driver side is kit/monitor's Containers: it keeps no state in
// memory.
//
// It claims no optional capability (no exec, terminal, pause, stats): the
// SDK answers NotImplemented for those, and the suite skips their cases.
package skeleton
