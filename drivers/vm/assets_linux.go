package vm

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// agentName is the guest agent's binary name.
const agentName = "rtd-vm-agent"

// kernel is a cached guest kernel.
type kernel struct {
	dir     string
	vmlinux string
	release string   // uname -r in the guest
	modules []string // file names under dir/modules, in load order
}

// assets are what booting a guest needs on the host.
type assets struct {
	kernel   *kernel
	agent    string
	qemu     string
	mkfs     string
	problems []string
}

// findAssets locates the kernel, agent, QEMU and mkfs.erofs; problems says,
// in words a person can act on, what is missing.
func findAssets(exe string) *assets {
	a := &assets{}
	if k, err := loadKernel(kernelDir()); err != nil {
		a.problems = append(a.problems, err.Error())
	} else {
		a.kernel = k
	}
	if p, err := findAgent(exe); err != nil {
		a.problems = append(a.problems, err.Error())
	} else {
		a.agent = p
	}
	q := os.Getenv(QEMUEnv)
	if q == "" {
		q = "qemu-system-x86_64"
	}
	if p, err := exec.LookPath(q); err != nil {
		a.problems = append(a.problems, q+" not found: install QEMU (apt-get install qemu-system-x86, or make deps)")
	} else {
		a.qemu = p
	}
	if p, err := exec.LookPath("mkfs.erofs"); err != nil {
		a.problems = append(a.problems, "mkfs.erofs not found: install erofs-utils (apt-get install erofs-utils, or make deps)")
	} else {
		a.mkfs = p
	}
	return a
}

func (a *assets) ready() error {
	if len(a.problems) > 0 {
		return fmt.Errorf("%s", strings.Join(a.problems, "; "))
	}
	return nil
}

func kernelDir() string {
	if d := os.Getenv(KernelDirEnv); d != "" {
		return d
	}
	return DefaultKernelDir
}

// loadKernel reads a kernel directory written by hack/vm-kernel.sh.
func loadKernel(dir string) (*kernel, error) {
	missing := fmt.Errorf("no guest kernel in %s: run hack/vm-kernel.sh (make deps), or set %s", dir, KernelDirEnv)
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, missing
	}
	k := &kernel{dir: real, vmlinux: filepath.Join(real, "vmlinux")}
	if _, err := os.Stat(k.vmlinux); err != nil {
		return nil, missing
	}
	rel, err := os.ReadFile(filepath.Join(real, "release"))
	if err != nil || strings.TrimSpace(string(rel)) == "" {
		return nil, missing
	}
	k.release = strings.TrimSpace(string(rel))
	f, err := os.Open(filepath.Join(real, "modules.order"))
	if err != nil {
		return nil, missing
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := strings.TrimSpace(sc.Text()); m != "" {
			k.modules = append(k.modules, m)
		}
	}
	return k, sc.Err()
}

// findAgent looks for the guest agent: $RTD_VM_AGENT, next to the driver,
// then /usr/libexec/rtd.
func findAgent(exe string) (string, error) {
	if p := os.Getenv(AgentEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("guest agent %s ($%s): %v", p, AgentEnv, err)
		}
		return p, nil
	}
	candidates := []string{filepath.Join(filepath.Dir(exe), agentName), filepath.Join("/usr/libexec/rtd", agentName)}
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("guest agent %s not found next to %s: build it (make build) or set %s", agentName, exe, AgentEnv)
}

// hostTSCKHz returns the host's TSC frequency in kHz: under TCG the guest's
// TSC runs at the host's rate, and telling the guest kernel (tsc_early_khz)
// avoids the clock calibration that hangs microvm boots about half the time.
// It is measured (amd64), else read from sysfs or /proc/cpuinfo (whose "cpu
// MHz" is the TSC rate only on hosts without frequency scaling).
func hostTSCKHz() int {
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
