// Package testutil holds fixtures shared by rtd's tests: a busybox root
// filesystem and OCI bundles, built from the host's busybox-static.
package testutil

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

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

var trackOnce sync.Once
var trackErr error

// TrackSources stats every Go file, go.mod and go.sum of the module (found
// from the working directory up), once per test binary, and fails t if it
// cannot. go test caches a passing result until a file the test looked at
// changes, and a test that builds rtd's binaries with `go build` (e2e,
// conformance, vm, bench) looks at none of their sources otherwise: a change
// to a driver would leave a stale "ok (cached)". Call it from a test (what
// TestMain reads before m.Run is not recorded).
func TrackSources(t testing.TB) {
	t.Helper()
	trackOnce.Do(func() { trackErr = trackSources() })
	if trackErr != nil {
		t.Fatalf("track sources for the test cache: %v", trackErr)
	}
}

func trackSources() error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			return fmt.Errorf("no go.mod above the working directory")
		}
		root = parent
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum") {
			_, err = os.Stat(path)
		}
		return err
	})
}
