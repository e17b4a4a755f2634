//go:build linux && (!cgo || race)

package lcmon

// restoreInitAddressSpace has nothing to restore without cgo (the
// constructor that lowers the init's RLIMIT_AS is C, aslimit_linux.go) or
// in a race-detector build: its shadow memory is reserved before any
// constructor runs and counts against RLIMIT_AS, so a 1 GiB limit would
// leave the race runtime's init nothing ("procReady not received"); such a
// build (the tests under -race) keeps the caller's limit.
func restoreInitAddressSpace() {}
