package vmm

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultKernelDir is where hack/vm-kernel.sh caches the default kernel.
const DefaultKernelDir = "/var/cache/rtd/vm/default"

// Kernel is a cached guest kernel.
type Kernel struct {
	Dir     string
	Vmlinux string
	Release string   // uname -r in the guest
	Modules []string // file names under Dir/modules, in load order
}

// LoadKernel reads a kernel directory written by hack/vm-kernel.sh; the
// error names envName, the variable that points elsewhere.
func LoadKernel(dir, envName string) (*Kernel, error) {
	missing := fmt.Errorf("no guest kernel in %s: run hack/vm-kernel.sh (make deps), or set %s", dir, envName)
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, missing
	}
	k := &Kernel{Dir: real, Vmlinux: filepath.Join(real, "vmlinux")}
	if _, err := os.Stat(k.Vmlinux); err != nil {
		return nil, missing
	}
	rel, err := os.ReadFile(filepath.Join(real, "release"))
	if err != nil || strings.TrimSpace(string(rel)) == "" {
		return nil, missing
	}
	k.Release = strings.TrimSpace(string(rel))
	f, err := os.Open(filepath.Join(real, "modules.order"))
	if err != nil {
		return nil, missing
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := strings.TrimSpace(sc.Text()); m != "" {
			k.Modules = append(k.Modules, m)
		}
	}
	return k, sc.Err()
}

// HostTSCKHz returns the host's TSC frequency in kHz: under TCG the guest's
// TSC runs at the host's rate, and telling the guest kernel (tsc_early_khz)
// avoids the clock calibration that hangs microvm boots about half the time.
// It is measured (amd64), else read from sysfs or /proc/cpuinfo (whose "cpu
// MHz" is the TSC rate only on hosts without frequency scaling).
func HostTSCKHz() int {
	if khz := measureTSCKHz(); khz > 0 {
		return khz
	}
	if data, err := os.ReadFile("/sys/devices/system/cpu/cpu0/tsc_freq_khz"); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && v > 0 {
			return v
		}
	}
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "cpu MHz" {
			mhz, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil && mhz > 0 {
				return int(mhz*1000 + 0.5)
			}
			return 0
		}
	}
	return 0
}
