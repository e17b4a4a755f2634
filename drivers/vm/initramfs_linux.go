package vm

import (
	"path/filepath"
	"strings"

	"github.com/rtd-project/rtd/internal/vmm"
)

// initramfsFiles lists the guest's initramfs: the agent as /init, the
// device nodes a Go program needs before devtmpfs is mounted, the modules
// and their load order.
func initramfsFiles(agent string, k *vmm.Kernel) []vmm.File {
	files := []vmm.File{
		{Name: "dev", Mode: vmm.ModeDir | 0o755},
		{Name: "dev/console", Mode: vmm.ModeChar | 0o600, RdevMajor: 5, RdevMinor: 1},
		{Name: "dev/null", Mode: vmm.ModeChar | 0o666, RdevMajor: 1, RdevMinor: 3},
	}
	for _, d := range []string{"proc", "sys", "run", "tmp", "newroot", "lib", "lib/modules"} {
		files = append(files, vmm.File{Name: d, Mode: vmm.ModeDir | 0o755})
	}
	files = append(files, vmm.File{Name: "init", Mode: vmm.ModeReg | 0o755, HostPath: agent})
	for _, m := range k.Modules {
		files = append(files, vmm.File{Name: "lib/modules/" + m, Mode: vmm.ModeReg | 0o644, HostPath: filepath.Join(k.Dir, "modules", m)})
	}
	order := strings.Join(k.Modules, "\n") + "\n"
	files = append(files, vmm.File{Name: "lib/modules/modules.order", Mode: vmm.ModeReg | 0o644, Data: []byte(order)})
	return files
}

// initramfs returns the path of the (cached) initramfs for agent and
// kernel k.
func initramfs(dir, agent string, k *vmm.Kernel) (string, error) {
	return vmm.Initramfs(dir, initramfsFiles(agent, k))
}
