// Package kit is the root of rtd's public driver kit: what a driver needs
// besides the SDK (package driver), importable from a driver's own
// repository. It holds no code; the parts are its subpackages:
//
//   - monitor: the per-container monitor that keeps a workload alive and
//     its exit status known across driver restarts (spawn, stdio, control
//     socket, exit record, subreaper, pid records), and Containers, the
//     driver-side lifecycle every monitor-based driver shares
//   - ocicli: drive a runc-compatible CLI (runc, runsc, runj, crun) with
//     errdefs-classed errors
//   - ocispec: the default spec, LoadFile/Load of config.json with one clear
//     InvalidArgument error, RootfsPath
//   - events: the event journal behind the contract's Events (ordered,
//     exactly-once exits derived from kit/monitor's exit records, survives
//     the driver process)
//   - statestore: per-container records in a driver's state directory
//   - sandboxrec: sandbox (pod) records, their members, and the stop and
//     shutdown steps over those members
//   - logfile: the record format of a detached container's log (stdout and
//     stderr apart, each chunk timed) and its reader, for `rtd logs`
//   - atomicfile: whole-file replacement for records and state files (and
//     why there is no fsync)
//
// The kit imports nothing under internal/, core/ or drivers/
// (TestPublicPackagesImportNoInternals keeps it so).
package kit
