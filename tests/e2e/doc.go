// Package e2e tests rtd end to end, as a user runs it: the rtd binary
// (static, CGO_ENABLED=0) and the rtd-driver-linux plugin are built into a
// temporary directory and run as real processes, with real containers
// under a temporary --root. The tests need root; they skip otherwise.
package e2e
