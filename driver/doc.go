// Package driver is the Go SDK of the rtd driver contract.
//
// A driver author implements Driver (embedding Unimplemented for the optional
// methods it does not support), and calls Serve from main. The core and the
// conformance suite reach a driver through Dial/Launch, which return a Driver
// backed by a go-plugin gRPC connection. Errors keep their errdefs class
// (NotFound, AlreadyExists, ...) across the process boundary.
//
// This package depends only on the wire contract (api/driver/v1), go-plugin,
// gRPC, errdefs and the OCI runtime-spec types: an out-of-tree driver imports
// nothing else from rtd.
package driver
