package vmm

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultKernelDir is where hack/vm-kernel.sh caches Debian's cloud kernel,
// the fallback guest kernel.
const DefaultKernelDir = "/var/cache/rtd/vm/default"

// BuiltKernelDir is where hack/guest-kernel.sh caches rtd's own microVM
// kernel (everything built in), preferred when it is there (a link to the
// latest build).
const BuiltKernelDir = "/var/cache/rtd/guest-kernel/default"

// Kernel is a cached guest kernel.
type Kernel struct {
	Dir     string
	Vmlinux string
	Release string   // uname -r in the guest
	Modules []string // file names under Dir/modules, in load order
	// Origin says where the kernel comes from, for Info: the first line of
	// Dir/package ("linux-image-6.1.0-57-cloud-amd64 6.1.158-1", or
	// "linux-source-6.1 6.1.192-3 fragment ... recipe 1"), empty if absent.
	Origin string
}

// Describe names the kernel for a person: release and origin.
func (k *Kernel) Describe() string {
	switch {
	case strings.HasPrefix(k.Origin, "linux-source-"):
		// "linux-source-6.1 6.1.192-3 fragment 0123abcd recipe 3": the
		// fragment's hash tells two builds of one release apart.
		src, rest, _ := strings.Cut(k.Origin, " fragment ")
		frag, _, _ := strings.Cut(rest, " ")
		if frag != "" {
			frag = ", fragment " + frag
		}
		return "linux " + k.Release + " (rtd's microVM build of Debian " + src + frag + ", all built in)"
	case strings.HasPrefix(k.Origin, "linux-image-"):
		return "linux " + k.Release + " (Debian " + k.Origin + ")"
	case k.Origin != "":
		return "linux " + k.Release + " (" + k.Origin + ")"
	}
	return "linux " + k.Release + " (" + k.Dir + ")"
}

// FindKernel loads the guest kernel a driver boots: the directory named by
// $envName if set, else the one $RTD_GUEST_KERNEL picks: "built" rtd's own
// kernel (BuiltKernelDir), "debian" Debian's cloud kernel
// (DefaultKernelDir); unset, rtd's own kernel when one was built, else
// Debian's.
func FindKernel(envName string) (*Kernel, error) {
	return findKernel(envName, os.Getenv(GuestKernelEnv), BuiltKernelDir, DefaultKernelDir)
}

// GuestKernelEnv picks the guest kernel of the vm and unikernel drivers
// when their kernel directory variable is unset: GuestKernelBuilt boots
// rtd's own kernel (hack/guest-kernel.sh), GuestKernelDebian Debian's cloud
// kernel (hack/vm-kernel.sh); unset, the built kernel is preferred and
// Debian's is the fallback.
const GuestKernelEnv = "RTD_GUEST_KERNEL"

// The values of GuestKernelEnv.
const (
	GuestKernelBuilt  = "built"
	GuestKernelDebian = "debian"
)

func findKernel(envName, choice, built, fallback string) (*Kernel, error) {
	if d := os.Getenv(envName); d != "" {
		return LoadKernel(d, envName)
	}
	switch choice {
	case GuestKernelBuilt:
		k, err := LoadKernel(built, GuestKernelEnv)
		if err != nil {
			return nil, fmt.Errorf("no built guest kernel in %s (%s=%s): run hack/guest-kernel.sh (make guest-kernel), or set %s=%s for Debian's", built, GuestKernelEnv, choice, GuestKernelEnv, GuestKernelDebian)
		}
		return k, nil
	case "":
		if k, err := LoadKernel(built, GuestKernelEnv); err == nil {
			return k, nil
		}
	case GuestKernelDebian:
	default:
		return nil, fmt.Errorf("invalid $%s %q: want %s (rtd's kernel, hack/guest-kernel.sh), %s (Debian's cloud kernel, hack/vm-kernel.sh), or unset (rtd's if built, else Debian's)", GuestKernelEnv, choice, GuestKernelBuilt, GuestKernelDebian)
	}
	k, err := LoadKernel(fallback, envName)
	if err != nil {
		if choice == GuestKernelDebian {
			return nil, fmt.Errorf("no Debian guest kernel in %s (%s=%s): run hack/vm-kernel.sh (make deps), or unset %s", fallback, GuestKernelEnv, choice, GuestKernelEnv)
		}
		return nil, fmt.Errorf("no guest kernel in %s or %s: run hack/guest-kernel.sh (builds rtd's; make test does) or hack/vm-kernel.sh (fetches Debian's; make deps), or set %s", built, fallback, envName)
	}
	return k, nil
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
	if data, err := os.ReadFile(filepath.Join(real, "package")); err == nil {
		k.Origin, _, _ = strings.Cut(strings.TrimSpace(string(data)), "\n")
	}
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
