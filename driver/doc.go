// Package driver is the Go SDK of the rtd driver contract.
//
// A driver author implements Driver (embedding Unimplemented for the optional
// methods it does not support), says in Info which optional methods it
// supports (Capabilities), and calls Serve from main with the state
// directory from StateDir. The SDK serves only what Info claims: an
// optional method whose capability is not claimed answers NotImplemented
// without reaching the driver's code, so a claim and the served methods
// cannot drift apart. A panic in a driver method answers Internal, naming
// the method, and the process keeps serving.
//
// The core and the conformance suite start a driver process with Launch,
// which returns its Process (pid, liveness, last log lines, Close); the
// Process's Client speaks the contract to it over go-plugin gRPC. NewClient
// speaks the contract over any gRPC connection (NewGRPCServer serves one,
// package drivertest does both in a test). Errors keep their errdefs class
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
// nothing else from rtd. The rest of what a driver needs is in the kit
// (github.com/rtd-project/rtd/kit/...); docs/driver-authors.md is the guide.
package driver
