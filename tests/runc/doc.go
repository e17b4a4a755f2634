// Package runc tests rtd-runc, rtd's runc-compatible command, with the real
// programs that drive runc: its own command line against Debian's runc's
// answers, containerd's runc shim (ctr run --runc-binary), Podman, Docker,
// and the OCI runtime-tools validation suite run side by side against
// rtd-runc and runc. The tests need root; TestMain builds rtd-runc and the
// drivers into a temporary directory, and the hack/ scripts install the
// external programs (cached under /var/cache/rtd).
package runc
