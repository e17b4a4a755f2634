//go:build linux

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// wasmRootfs builds the WASI hello (internal/testutil/wasmhello) for
// wasip1 into a new root filesystem as /hello.wasm.
func wasmRootfs(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(root, "hello.wasm"), "github.com/rtd-project/rtd/internal/testutil/wasmhello")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the wasip1 hello: %v\n%s", err, out)
	}
	return root
}

// recordedDriver returns the driver recorded for container name.
func (e *env) recordedDriver(name string) string {
	e.t.Helper()
	var inspect []map[string]any
	if err := json.Unmarshal([]byte(e.ok("inspect", name).stdout), &inspect); err != nil {
		e.t.Fatal(err)
	}
	rec, _ := inspect[0]["record"].(map[string]any)
	if rec == nil {
		rec = inspect[0]
	}
	d, _ := rec["driver"].(string)
	return d
}

func TestWasmRun(t *testing.T) {
	e := newEnv(t)
	root := wasmRootfs(t)
	r := e.ok("run", "--rm", "--driver", "wasm", root, "/hello.wasm")
	if r.stdout != "Hello from WebAssembly!\n" {
		t.Fatalf("hello: %s", r)
	}
	e.wantCode(42, "run", "--rm", "--driver", "wasm", root, "/hello.wasm", "exit", "42")
	// An OCI bundle directory works the same.
	bundle := t.TempDir()
	cfg := `{"ociVersion":"1.0.2","process":{"args":["/hello.wasm","exit","7"],"cwd":"/"},"root":{"path":"` + root + `"}}`
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	e.wantCode(7, "run", "--rm", "--driver", "wasm", bundle)
	// Without --driver, a WebAssembly workload goes to the wasm driver.
	e.ok("run", "-d", "--name", "auto", root, "/hello.wasm")
	e.ok("wait", "auto")
	if d := e.recordedDriver("auto"); d != "wasm" {
		t.Errorf("a wasm workload without --driver went to %q", d)
	}
	e.ok("rm", "auto")
	if recs := e.records(); len(recs) != 0 {
		t.Fatalf("left records %v", recs)
	}
}

// rtd kill stops a sleeping module; the exit status says which signal.
func TestWasmKill(t *testing.T) {
	e := newEnv(t)
	root := wasmRootfs(t)
	e.ok("run", "-d", "--name", "sleeper", "--driver", "wasm", root, "/hello.wasm", "sleep", "600")
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(e.ok("logs", "sleeper").stdout, "ready") {
		if time.Now().After(deadline) {
			t.Fatal("the module never said ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.ok("kill", "-s", "TERM", "sleeper")
	e.wantCode(143, "wait", "sleeper")
	e.ok("rm", "sleeper")
}

// A native program is never run by the wasm driver: named, it is refused
// with a pointer to the linux driver; an isolation requirement whose
// weakest class would be wasm picks a driver that runs native programs.
func TestWasmRefusesNativeAndSelectionSkipsIt(t *testing.T) {
	e := newEnv(t)
	bb := rootfs(t)
	r := e.wantCode(125, "run", "--rm", "--driver", "wasm", bb, "true")
	if !strings.Contains(r.stderr, "linux driver") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Fatalf("want one line naming the linux driver: %s", r)
	}
	if _, err := exec.LookPath("runsc"); err != nil {
		t.Skip("runsc not installed: make deps installs it (the next stronger class after wasm)")
	}
	r = e.ok("run", "--rm", "--isolation", "wasm", "hello")
	if !strings.Contains(r.stdout, "kernel release:      4.4.0") {
		t.Fatalf("--isolation wasm did not run the native hello under gVisor (the weakest class above wasm that runs it): %s", r)
	}
	// And a wasm module asked for with --isolation wasm goes to the wasm driver.
	e.ok("run", "-d", "--name", "mod", "--isolation", "wasm", wasmRootfs(t), "/hello.wasm")
	e.ok("wait", "mod")
	if d := e.recordedDriver("mod"); d != "wasm" {
		t.Fatalf("--isolation wasm sent a wasm module to %q", d)
	}
	e.ok("rm", "mod")
}
