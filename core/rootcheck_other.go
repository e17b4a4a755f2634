//go:build !unix

package core

// checkRootOwnership is a no-op where files have no unix owner and mode
// bits (Windows: the root's ACL decides).
func checkRootOwnership(string) error { return nil }

// checkRecordOwnership is a no-op where files have no unix owner and mode
// bits.
func checkRecordOwnership(string, string) error { return nil }
