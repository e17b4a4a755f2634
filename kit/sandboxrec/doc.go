// Package sandboxrec keeps a driver's sandbox (pod) records on disk, the
// way the linux and gvisor drivers lay them out: under a directory DIR,
// one directory DIR/ID per sandbox holding sandbox.json (the driver's own
// record type) and members/ (an empty file per container created in it),
// and a lock file DIR/ID.lock that serialises changes to one sandbox.
// Records are written whole through kit/atomicfile; ids are checked with
// driver.ValidateID before they become path elements.
//
// RefuseRunning, StopMembers and DeleteMembers are the shutdown and stop
// steps every sandbox driver (linux, gvisor, vm) takes over its member
// containers; SharedNamespaces and CheckNetNS check a SandboxSpec.
//
// Holders (Linux) is the whole sandbox lifecycle of a driver whose sandbox
// is one holder process (the linux driver's pause holder, gvisor's runsc
// sandbox): the driver embeds Record in its record type and gives the
// steps that differ (start the holder, start the sandbox, destroy it) as
// functions; create, start, status, list, wait (recording a holder that
// ended without a stop), stop and shutdown are the kit's.
package sandboxrec
