// Command rtd-runc speaks runc's command line over any rtd driver, so that
// Docker (--add-runtime), Podman (--runtime), containerd's runc shim
// (BinaryName, ctr run --runc-binary) and the OCI runtime-tools validation
// suite can run containers on the linux, gvisor or vm drivers.
//
// The driver is chosen by --driver, then $RTD_DRIVER, then the binary's own
// name (rtd-runc-gvisor runs the gvisor driver), else linux. State lives
// under --root (default $RTD_RUNC_ROOT, else /run/rtd-runc):
// ROOT/containers/ID/record.json, the drivers' state in ROOT/drivers/NAME,
// their sockets in ROOT/sock. docs/runc.md describes the commands.
//
// Container pid semantics: create starts a small stand-in process (this
// binary again) that holds the caller's stdio, waits for the workload to end
// and exits with its status. Its pid goes to --pid-file: callers that are
// subreapers (containerd's runc shim, conmon) inherit it when rtd-runc exits
// and wait on it, as runsc's callers wait on its sandbox process. state
// reports the workload's own host pid, as runc does, so that tools reading
// /proc/PID of the container see its namespaces and cgroups.
package main
