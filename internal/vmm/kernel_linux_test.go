package vmm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kernelDir writes a kernel directory as the hack/ scripts lay it out.
func kernelDir(t *testing.T, release, pkg string, modules ...string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"vmlinux": "\x7fELF", "release": release + "\n", "modules.order": strings.Join(modules, "\n")}
	if pkg != "" {
		files["package"] = pkg + "\n"
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The drivers boot the kernel the environment names, else rtd's built
// kernel when there is one, else Debian's; RTD_GUEST_KERNEL=built|debian
// forces one; Info names which; a misspelt choice is refused, not silently
// Debian's.
func TestFindKernel(t *testing.T) {
	const env = "RTD_TEST_KERNEL_DIR"
	built := kernelDir(t, "6.1.192-rtd", "linux-source-6.1 6.1.192-3 fragment 0123 recipe 1")
	debian := kernelDir(t, "6.1.0-57-cloud-amd64", "linux-image-6.1.0-57-cloud-amd64 6.1.158-1", "virtio.ko", "erofs.ko")
	missing := filepath.Join(t.TempDir(), "none")
	const builtDesc = "linux 6.1.192-rtd (rtd's microVM build of Debian linux-source-6.1 6.1.192-3, fragment 0123, all built in)"
	const debianDesc = "linux 6.1.0-57-cloud-amd64 (Debian linux-image-6.1.0-57-cloud-amd64 6.1.158-1)"

	t.Setenv(env, "")
	k, err := findKernel(env, "", built, debian)
	if err != nil || k.Release != "6.1.192-rtd" || len(k.Modules) != 0 || k.Describe() != builtDesc {
		t.Errorf("by default, with a built kernel: %+v, %v; want the built kernel", k, err)
	}
	k, err = findKernel(env, "", missing, debian)
	if err != nil || k.Release != "6.1.0-57-cloud-amd64" || len(k.Modules) != 2 || k.Describe() != debianDesc {
		t.Errorf("by default, none built: %+v, %v; want Debian's", k, err)
	}
	if k, err = findKernel(env, "built", built, debian); err != nil || k.Describe() != builtDesc {
		t.Errorf("built asked for: %+v, %v; want the built kernel", k, err)
	}
	if _, err := findKernel(env, "built", missing, debian); err == nil || !strings.Contains(err.Error(), GuestKernelEnv) {
		t.Errorf("built asked for, none built: %v, want an error naming %s", err, GuestKernelEnv)
	}
	if k, err = findKernel(env, "debian", built, debian); err != nil || k.Describe() != debianDesc {
		t.Errorf("debian asked for, a built kernel there: %+v, %v; want Debian's", k, err)
	}
	if _, err := findKernel(env, "debian", built, missing); err == nil || !strings.Contains(err.Error(), "hack/vm-kernel.sh") || !strings.Contains(err.Error(), GuestKernelEnv) {
		t.Errorf("debian asked for, none fetched: %v, want an error naming hack/vm-kernel.sh and %s", err, GuestKernelEnv)
	}
	if _, err = findKernel(env, "bulit", built, debian); err == nil || !strings.Contains(err.Error(), `invalid $RTD_GUEST_KERNEL "bulit"`) {
		t.Errorf("misspelt choice: %v, want an error naming it", err)
	}
	t.Setenv(env, debian)
	if k, err = findKernel(env, "", built, debian); err != nil || k.Release != "6.1.0-57-cloud-amd64" {
		t.Errorf("with %s set: %+v, %v; want the directory it names", env, k, err)
	}
	t.Setenv(env, "")
	if _, err = findKernel(env, "", missing, missing); err == nil || !strings.Contains(err.Error(), "hack/guest-kernel.sh") || !strings.Contains(err.Error(), "hack/vm-kernel.sh") {
		t.Errorf("without kernels: %v, want an error naming both scripts", err)
	}
}
