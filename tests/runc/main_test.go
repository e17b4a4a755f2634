//go:build linux

package runc

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtd-project/rtd/internal/testutil"
)

var (
	// binDir holds rtd-runc and the drivers, built by TestMain.
	binDir   string
	setupErr error
)

func TestMain(m *testing.M) {
	os.Exit(testutil.BinMain(m, "rtd-runc-bin-", &setupErr, func(dir string) error {
		binDir = dir
		return build()
	}))
}

// build builds rtd-runc and the drivers it runs, as `make build` does.
func build() error {
	bins := append([]testutil.Binary{testutil.RtdRunc}, testutil.LinuxDrivers...)
	if strings.Contains(os.Getenv("RTD_RUNTIME_TOOLS_DRIVERS"), "vm") { // make runtime-tools
		bins = append(bins, testutil.VMDriverAndItsAgent...)
	}
	if err := testutil.BuildBinaries(binDir, bins...); err != nil {
		return err
	}
	// The binary's name picks the driver: rtd-runc-gvisor runs gvisor.
	return os.Symlink("rtd-runc", filepath.Join(binDir, "rtd-runc-gvisor"))
}

// need skips unless root, and fails when the setup failed.
func need(t *testing.T) {
	t.Helper()
	testutil.NeedRoot(t)
	testutil.TrackSources(t)
	if setupErr != nil {
		t.Fatalf("setup: %v", setupErr)
	}
}

// rtdRunc is the built rtd-runc.
func rtdRunc() string { return filepath.Join(binDir, "rtd-runc") }

// result is one command's outcome.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
}

// runtime runs one runc-compatible binary with its own --root.
type runtime struct {
	t    *testing.T
	bin  string
	root string
	env  []string
}

// newRuntime returns bin with a root of its own; whatever containers a
// failed test left are deleted (--force) when it ends.
func newRuntime(t *testing.T, bin string) *runtime {
	t.Helper()
	r := &runtime{t: t, bin: bin, root: t.TempDir()}
	t.Cleanup(func() {
		for _, id := range strings.Fields(r.run("list", "-q").stdout) {
			r.run("delete", "--force", id)
		}
	})
	return r
}

// eachRuntime runs f in a subtest for runc (the reference, from PATH; its
// subtest skips when runc is not installed) and for rtd-runc, and with
// gvisor for rtd-runc-gvisor too, each with a root of its own.
func eachRuntime(t *testing.T, gvisor bool, f func(t *testing.T, r *runtime)) {
	bins := []string{"runc", rtdRunc()}
	if gvisor {
		bins = append(bins, filepath.Join(binDir, "rtd-runc-gvisor"))
	}
	for _, bin := range bins {
		t.Run(filepath.Base(bin), func(t *testing.T) {
			if bin == "runc" {
				p, err := exec.LookPath("runc")
				if err != nil {
					t.Skip("runc not installed (Debian runc: make deps)")
				}
				bin = p
			}
			f(t, newRuntime(t, bin))
		})
	}
}

// removeCgroup removes the cgroup directory name, relative to each
// controller's root, that an engine created as a parent for a test's
// containers, with the empty cgroups below it (podman leaves its conmon
// and libpod-ID cgroups there, with runc as with rtd-runc).
func removeCgroup(name string) {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + name)
	if d := filepath.Join("/sys/fs/cgroup", name); dirExists(d) {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		var all []string
		_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		for i := len(all) - 1; i >= 0; i-- {
			_ = os.Remove(all[i]) // rmdir: only empty cgroups go
		}
	}
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// run runs the runtime with args, stdin from /dev/null, stdout and stderr
// to files: a container created holds them (as runc's does), so a pipe
// would not reach EOF before the container ends.
func (r *runtime) run(args ...string) result {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, append([]string{"--root", r.root}, args...)...)
	cmd.Env = append(os.Environ(), r.env...)
	dir := r.t.TempDir()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		r.t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		r.t.Fatal(err)
	}
	defer errf.Close()
	cmd.Stdout, cmd.Stderr = out, errf
	err = cmd.Run()
	ob, _ := os.ReadFile(out.Name())
	eb, _ := os.ReadFile(errf.Name())
	res := result{stdout: string(ob), stderr: string(eb)}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("%s %v: %v", r.bin, args, err)
	}
	return res
}

// ok runs args and fails the test unless they exit 0.
func (r *runtime) ok(args ...string) result {
	r.t.Helper()
	res := r.run(args...)
	if res.code != 0 {
		r.t.Fatalf("%s %v: %s", filepath.Base(r.bin), args, res)
	}
	return res
}

// state is the runc state of id.
func (r *runtime) state(id string) map[string]any {
	r.t.Helper()
	var st map[string]any
	res := r.ok("state", id)
	if err := json.Unmarshal([]byte(res.stdout), &st); err != nil {
		r.t.Fatalf("state %s: %v in %q", id, err, res.stdout)
	}
	return st
}

// waitStatus polls state until id has status want.
func (r *runtime) waitStatus(id, want string) {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := r.state(id)
		if st["status"] == want {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: status %v, want %s", id, st["status"], want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bundle writes a busybox bundle running args (no terminal).
func bundle(t *testing.T, args ...string) string {
	t.Helper()
	rootfs := testutil.BusyboxRootfs(t)
	spec := testutil.Spec(rootfs, args...)
	return testutil.Bundle(t, spec)
}
