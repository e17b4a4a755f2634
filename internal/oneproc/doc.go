// Package oneproc runs a short-lived command on one P (GOMAXPROCS=1) from
// before the packages that cost most to initialise (gRPC, protobuf) run
// their init: importing it is enough. A command that lives for a few tens
// of milliseconds and does one thing at a time gains nothing from a second
// P; it pays for it in idle threads spinning to look for work whenever a
// goroutine is woken, which on a loaded machine is several milliseconds of
// CPU per process (docs/performance.md, issue 22). A $GOMAXPROCS in the
// environment wins; Restore gives a command that decompresses or hashes
// in parallel (pull, load) the Go default back.
//
// Package initialisation order (the Go spec since 1.21) is by import path
// among the packages whose imports are ready; this one imports only the
// runtime and os, so it runs before google.golang.org/... and every
// package that imports them.
package oneproc
