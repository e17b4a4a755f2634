//go:build linux && seccomp

package linux

const seccompDescription = "seccomp (libseccomp): the profile in the OCI spec is enforced; rtd run and create give docker's default profile unless --security-opt seccomp=unconfined or --privileged"
