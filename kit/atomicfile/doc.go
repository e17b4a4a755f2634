// Package atomicfile replaces files whole: a reader (another process, or
// the same driver after a crash) sees either the old content or the new,
// never a torn write. Every record and state file of rtd, its drivers and
// their monitors is written through it.
//
// How: the data goes to a temporary file with a unique name in the target's
// directory, which is then renamed over the target (rename is atomic on one
// file system). On any failure the temporary file is removed.
//
// No fsync, by decision: rtd's state describes processes (containers,
// monitors, VMs), and a reboot ends them all, so surviving a power loss
// would preserve records of processes that no longer exist. The state
// lives under /run (tmpfs), where fsync does nothing; on a disk-backed root
// an fsync of the file and its directory costs milliseconds per write, on
// the path of every create, start and exit. What matters is covered by the
// rename: no reader ever sees a partial file, and a writer that crashes
// leaves the previous version in place. Readers treat an unreadable file
// as absent.
//
// It imports only the standard library, so a per-container monitor that
// must start fast can use it.
package atomicfile
