// Package testutil holds fixtures shared by rtd's tests: a busybox root
// filesystem and OCI bundles, built from the host's busybox-static.
package testutil

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver/drivertest"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// NeedRoot skips t unless it runs as root.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: containers need namespaces and cgroups")
	}
}

// BusyboxRootfs builds a root filesystem holding busybox and a symlink per
// applet, in a temporary directory.
func BusyboxRootfs(t testing.TB) string {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not installed: run make deps (installs busybox-static)")
	}
	root := t.TempDir()
	bin := filepath.Join(root, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Fields(string(out)) {
		_ = os.Symlink("busybox", filepath.Join(bin, name))
	}
	for _, d := range []string{"proc", "dev", "sys", "tmp", "etc"} {
		_ = os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	return root
}

// Spec returns rtd's default spec for args in rootfs, with PATH=/bin.
func Spec(rootfs string, args ...string) *specs.Spec {
	s := ocispec.Default(rootfs, args)
	s.Process.Env = []string{"PATH=/bin"}
	s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
	return s
}

// Bundle writes spec as config.json into a new temporary directory.
func Bundle(t testing.TB, spec *specs.Spec) string {
	t.Helper()
	dir := t.TempDir()
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TrackSources is drivertest.TrackSources: it makes go test's cache see
// the module's sources, which the binaries a test builds are made of.
func TrackSources(t testing.TB) {
	t.Helper()
	drivertest.TrackSources(t)
}
