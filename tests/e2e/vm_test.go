//go:build linux

package e2e

import (
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rtd-project/rtd/drivers/vm"
	"github.com/rtd-project/rtd/internal/testutil"
	"github.com/rtd-project/rtd/internal/vmm"
)

var (
	vmDriverBuildOnce sync.Once
	vmDriverBuildErr  error
)

// vmDriverEnv skips unless QEMU, erofs-utils and the guest kernel are there,
// and builds the vm driver and its agent next to rtd once. It returns the
// environment a vm test's rtd needs ($RTD_VM_KERNEL_DIR passed on).
func vmDriverEnv(t *testing.T) []string {
	t.Helper()
	for cmd, pkg := range map[string]string{"qemu-system-x86_64": "qemu-system-x86", "mkfs.erofs": "erofs-utils"} {
		if _, err := exec.LookPath(cmd); err != nil {
			t.Skipf("%s not found: apt-get install %s (make deps)", cmd, pkg)
		}
	}
	k, err := vmm.FindKernel(vm.KernelDirEnv)
	if err != nil {
		t.Skip(err.Error())
	}
	if buildErr != nil {
		t.Fatalf("building the binaries failed: %v", buildErr)
	}
	vmDriverBuildOnce.Do(func() {
		vmDriverBuildErr = testutil.BuildBinaries(binDir, testutil.VMDriverAndItsAgent...)
	})
	if vmDriverBuildErr != nil {
		t.Fatal(vmDriverBuildErr)
	}
	return []string{vm.KernelDirEnv + "=" + k.Dir}
}

// TestVolumesVM checks volumes on the vm driver: a named volume (a
// virtiofs share) keeps what one guest wrote for the next, a read-only one
// (a disk image) refuses writes, a read-write bind's writes reach the
// host, and no virtiofsd is left.
func TestVolumesVM(t *testing.T) {
	e := newEnv(t)
	vmEnv := vmDriverEnv(t)
	e.extraEnv = append(e.extraEnv, vmEnv...)
	testNamedVolume(t, e, "vm")
	// Without virtiofsd a read-write bind is refused before the VM boots:
	// one line, exit 125, nothing left.
	saved := e.extraEnv
	e.extraEnv = append(append([]string(nil), saved...), vm.VirtiofsdEnv+"=/nonexistent/virtiofsd")
	r := e.rtd("run", "--rm", "--driver", "vm", "-v", t.TempDir()+":/data", rootfs(t), "true")
	e.extraEnv = saved
	if r.code != 125 {
		t.Errorf("want exit 125: %s", r)
	}
	wantOneLineError(t, e, r, "virtiofsd /nonexistent/virtiofsd")
	if socks, _ := filepath.Glob(filepath.Join(e.root, "drivers", "vm", "s", "*-fs*.sock")); len(socks) != 0 {
		t.Errorf("virtiofs sockets left: %v", socks)
	}
	// No monitor and no virtiofsd (its socket is under the root) is left.
	e.noProcessLeft()
}
