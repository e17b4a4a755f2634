//go:build linux && !cgo

package lcmon

// restoreInitAddressSpace has nothing to restore without cgo: the
// constructor that lowers the init's RLIMIT_AS is C (aslimit_linux.go).
func restoreInitAddressSpace() {}
