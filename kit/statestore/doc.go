// Package statestore keeps a driver's per-container records on disk, so a
// restarted driver process finds its containers again: one directory per
// container under ROOT/containers holding record.json (the driver's own
// record type) and, once the init process ended, exit.json. Ids are checked
// with driver.ValidateID before they become path elements; writes go
// through kit/atomicfile (whole-file replacement, no fsync: see there why).
//
// It suits drivers whose backend keeps the container alive by itself (HCS
// on Windows, jails on FreeBSD). It is portable.
package statestore
