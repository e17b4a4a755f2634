package drivertest

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// BuildOptions say how Build compiles a package.
type BuildOptions struct {
	// Cgo builds with CGO_ENABLED=1 (default 0: static binaries).
	Cgo bool
	// Tags are build tags (e.g. "seccomp").
	Tags []string
	// Dir is the directory go build runs in (default: the test's
	// working directory), so a package path like "./cmd/my-driver" or a
	// module in another directory can be built.
	Dir string
}

var (
	buildMu    sync.Mutex
	buildDir   string
	built      = map[string]string{}
	trackOnce  sync.Once
	errTracked error
)

// Build compiles pkg with go build into a directory shared by the whole
// test binary and returns the binary's path; a second call with the same
// arguments returns the first binary. Use Main in TestMain to remove the
// binaries at the end. The binary is named after the last
// element of pkg. It also stats the sources of the module around the
// working directory, so that go test's cache sees a change to them (go
// test records only what a test itself opens, not what a go build it runs
// reads).
func Build(t testing.TB, pkg string, o BuildOptions) string {
	t.Helper()
	TrackSources(t)
	buildMu.Lock()
	defer buildMu.Unlock()
	key := fmt.Sprint(pkg, o.Cgo, o.Tags, o.Dir)
	if out, ok := built[key]; ok {
		return out
	}
	if buildDir == "" {
		dir, err := os.MkdirTemp("", "rtd-drivertest-bin-")
		if err != nil {
			t.Fatalf("drivertest: %v", err)
		}
		buildDir = dir // removed by Main
	}
	sub := filepath.Join(buildDir, fmt.Sprint(len(built)))
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatalf("drivertest: %v", err)
	}
	out := filepath.Join(sub, filepath.Base(pkg))
	args := []string{"build", "-o", out}
	if len(o.Tags) > 0 {
		args = append(args, "-tags", strings.Join(o.Tags, ","))
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = o.Dir
	cgo := "0"
	if o.Cgo {
		cgo = "1"
	}
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("drivertest: go build %s: %v\n%s", pkg, err, b)
	}
	built[key] = out
	return out
}

// TrackSources stats every Go file, go.mod and go.sum of the module around
// the working directory, once per test binary, and fails t if it cannot.
// go test caches a passing result until a file the test looked at
// changes, and a test that builds binaries with `go build` (as Build does)
// looks at none of their sources otherwise: a change to a driver would
// leave a stale "ok (cached)". Call it from a test (what TestMain reads
// before m.Run is not recorded); Build calls it.
func TrackSources(t testing.TB) {
	t.Helper()
	trackOnce.Do(func() { errTracked = trackModule() })
	if errTracked != nil {
		t.Fatalf("drivertest: track sources for the test cache: %v", errTracked)
	}
}

// Main runs the tests of m and then removes the binaries Build made. Call it
// from TestMain when a package uses Build:
//
//	func TestMain(m *testing.M) { os.Exit(drivertest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
		buildDir, built = "", map[string]string{}
	}
	return code
}

// trackModule stats every Go file, go.mod and go.sum of the module found
// from the working directory up.
func trackModule() error {
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
