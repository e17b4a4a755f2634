//go:build linux && seccomp

package linux

const seccompDescription = "seccomp (libseccomp): the profile in the OCI spec is enforced"
