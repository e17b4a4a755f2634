package vm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/rtd-project/rtd/internal/vmm"
)

// agentName is the guest agent's binary name.
const agentName = "rtd-vm-agent"

// assets are what booting a guest needs on the host.
type assets struct {
	kernel   *vmm.Kernel
	agent    string
	qemu     string
	mkfs     string
	problems []string
}

// findAssets locates the kernel, agent, QEMU and mkfs.erofs; problems says,
// in words a person can act on, what is missing.
func findAssets(exe string) *assets {
	a := &assets{}
	if k, err := vmm.FindKernel(KernelDirEnv); err != nil {
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
