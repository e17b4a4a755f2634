// Package ocispec holds the OCI runtime spec helpers every rtd driver needs:
// Default builds the spec rtd uses for a root filesystem directory (what
// `runc spec` generates, with docker's defaults), Load and LoadFile read a
// bundle's config.json with one clear InvalidArgument error naming the file,
// line and column of what is wrong, and RootfsPath resolves root.path
// against its bundle.
//
// It imports only the runtime-spec types and errdefs (no gRPC, no driver
// SDK), so a per-container monitor that must start fast can use it too.
package ocispec
