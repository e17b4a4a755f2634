// Package driver is the Go SDK of the rtd driver contract.
//
// A driver author implements Driver (embedding Unimplemented for the optional
// methods it does not support), and calls Serve from main. The core and the
// conformance suite reach a driver through Dial/Launch, which return a Driver
// backed by a go-plugin gRPC connection. Errors keep their errdefs class
// (NotFound, AlreadyExists, ...) across the process boundary.
//
// Events: a driver claiming the events capability streams its events in
// order (Driver.Events: from now on). A driver that journals them also
// implements EventReplayer, and Serve then answers every Events call with
// EventsFrom: Event.Seq numbers the journal, and EventsRequest.After or Since
// replays it, so a subscriber that reconnects after a driver relaunch gets
// what it missed, once. A cursor sent to a driver without EventReplayer
// fails with NotImplemented. docs/events.md has the rules in full.
//
// This package depends only on the wire contract (api/driver/v1), go-plugin,
// gRPC, errdefs and the OCI runtime-spec types: an out-of-tree driver imports
// nothing else from rtd.
package driver
