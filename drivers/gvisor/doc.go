// Package gvisor is the rtd driver for gVisor: every container runs in its
// own runsc sandbox, whose user-space kernel (the Sentry) stands between the
// workload and the host kernel.
//
// It drives the runsc CLI through kit/ocicli and keeps a monitor
// (kit/monitor) per container as the subreaper of the sandbox process:
// the sandbox exits with the container's status, which is how the exit code
// survives even when runsc itself has forgotten it. The driver process is
// stateless.
package gvisor
