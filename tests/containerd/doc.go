// Package containerd tests containerd-shim-rtd-v2 under a real containerd
// 2.2 (built by hack/containerd.sh): ctr on every driver, crictl through
// containerd's CRI plugin, and the shim, its driver and containerd killed.
// Every test starts its own containerd (own root, state, socket and config)
// and stops it; images are built from local material and imported.
package containerd
