// Package rtdshim is containerd's runtime v2 shim for rtd
// (runtime_type "io.containerd.rtd.v2", binary containerd-shim-rtd-v2): a
// task service (task API v3 over ttrpc, served by containerd's pkg/shim)
// that translates each call to the rtd driver contract through the core,
// which finds, launches and relaunches the driver process.
//
// One shim process serves every container of a pod (containers carrying the
// same io.kubernetes.cri.sandbox-id annotation) and keeps one driver process
// per driver for its whole life. The runtime options of the containerd
// handler choose the driver (Options). Containers live in containerd's
// bundle directories and in a private core root per shim
// (/run/rtd/containerd/<hash>); rtd's own CLI does not see them.
package rtdshim
