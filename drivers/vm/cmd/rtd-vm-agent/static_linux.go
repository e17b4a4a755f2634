//go:build linux && cgo

package main

// The agent runs in an initramfs without a C library: link it statically
// (libseccomp too, with -tags seccomp).

// #cgo LDFLAGS: -static
import "C"
