// Package freebsd is the rtd driver for FreeBSD jails, driving the runj
// CLI (create, start, state, kill, delete) through rtd's runc-compatible
// CLI layer (kit/ocicli).
//
// FreeBSD specifics come from org.freebsd.* annotations (jail(8)
// parameters, vnet, devfs ruleset), translated by the portable Translate
// into the spec's freebsd section (runtime-spec v1.3) and runj's own
// runj.ext.json, in a copy of the bundle the driver keeps in its state
// directory. The driver process is the subreaper of the containers it
// creates and records their exit status.
//
// The CLI-driving engine builds on FreeBSD and on Linux, where its tests
// drive real runc; the driver proper needs FreeBSD, and has not been run
// there by rtd's developers (see docs/drivers/freebsd.md). On any other OS
// it answers Info with "not ready" and every other call with
// NotImplemented.
package freebsd
