// Package events is the event journal behind the contract's Events, for
// any driver whose containers run under kit/monitor (in tree: linux, gvisor,
// vm; an out-of-tree driver imports it the same way): an append-only file
// of ordered, numbered events in the driver's state directory, which any
// driver process appends to and streams from, so that events survive the
// driver process.
//
// Driver calls journal what they did (create, start, exec, pause, resume,
// delete) before they return. Exits (and OOM kills) are not journaled by the
// call that caused them: they are derived from the exit records (exit.json)
// that the per-process monitors write, by whichever driver process looks
// first (a subscriber's poll, a catch-up when a stream opens, Delete). A
// marker file in the process dir makes each derived event exactly-once; a
// write-ahead record (pending.json) makes an append and its marker one step
// even when the driver is killed between them. See docs/events.md.
//
// The package relies on kit/monitor's layout: STATE/c/ID/ is a
// container's process dir, STATE/c/ID/exec/EXECID/ an exec's, and a process
// dir holds exit.json (a driver.ExitStatus) once the process ended.
package events
