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
// The core and the conformance suite reach a driver process through Launch,
// which returns a Client backed by a go-plugin gRPC connection; NewClient
// speaks the contract over any gRPC connection (NewGRPCServer serves one,
// package drivertest does both in a test). Errors keep their errdefs class
// (NotFound, AlreadyExists, ...) across the process boundary.
//
// This package depends only on the wire contract (api/driver/v1), go-plugin,
// gRPC, errdefs and the OCI runtime-spec types: an out-of-tree driver imports
// nothing else from rtd. The rest of what a driver needs is in the kit
// (github.com/rtd-project/rtd/kit/...); docs/driver-authors.md is the guide.
package driver
