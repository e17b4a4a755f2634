//go:build linux && !seccomp

package linux

const seccompDescription = "none: built without -tags seccomp, a spec with a seccomp profile is refused"
