// Package sandboxrec keeps a driver's sandbox (pod) records on disk, the
// way the linux and gvisor drivers lay them out: under a directory DIR,
// one directory DIR/ID per sandbox holding sandbox.json (the driver's own
// record type) and members/ (an empty file per container created in it),
// and a lock file DIR/ID.lock that serialises changes to one sandbox.
// Records are written whole through kit/atomicfile; ids are checked with
// driver.ValidateID before they become path elements.
//
// RefuseRunning and StopMembers are the shutdown and stop steps every
// sandbox driver (linux, gvisor, vm) takes over its member containers.
package sandboxrec
