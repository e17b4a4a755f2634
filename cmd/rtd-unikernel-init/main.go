// Command rtd-unikernel-init is the /init of the unikernel driver's "linux"
// guest: a static program, the only one of the VM besides the container's.
// It mounts what a program expects (/proc, /sys, /dev, the root filesystem
// from the EROFS disk under a writable overlay in memory), runs the
// container's program (/rtd/process.json in the initramfs: args, env, cwd,
// user) with its stdio on the serial ports (ttyS0 stdin/stdout, ttyS1
// stderr, also the kernel's console), reaps every process, writes
// "rtd-exit: N" on a small status disk, where the host reads the exit
// status, and powers off.
// There is no agent: nothing else can be started in the guest.
package main

func main() { run() }
