// Command rtd-unikernel-init is the /init of the unikernel driver's "linux"
// guest: a static program, the only one of the VM besides the container's.
// It mounts what a program expects (/proc, /sys, /dev, the root filesystem
// from the EROFS disk under a writable overlay in memory), runs the
// container's program (/rtd/process.json in the initramfs: args, env, cwd,
// user, mounts, rlimits, capabilities, memory and pids limits), as pid 1 of
// its own pid and mount namespaces, with its output on two virtio-serial
// ports (rtd.stdout, rtd.stderr; stdin is /dev/null; the kernel's console
// is ttyS0), reaps
// every process, writes "rtd-exit: N" on a small status disk, where the host
// reads the exit status, and ends the VM.
// There is no agent: nothing else can be started in the guest.
package main

func main() { run() }
