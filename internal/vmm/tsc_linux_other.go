//go:build linux && !amd64

package vmm

// measureTSCKHz is not available off amd64: the driver falls back to
// /proc/cpuinfo.
func measureTSCKHz() int { return 0 }
