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
//
// CRI pods map onto drivers three ways: a pause container whose namespaces
// the containers join (podsandbox, no option); a pause container that
// makes a driver sandbox (Options.Pods "sandbox"); or containerd's Sandbox
// API (a handler with sandboxer = "shim"), which the shim serves beside the
// task API (sandbox_service_linux.go): each pod a driver sandbox, no pause
// container. A shim run as containerd-shim-rtd-DRIVER-v2 defaults to that
// driver (binaryDriver).
package rtdshim
