//go:build linux

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtd-project/rtd/internal/testutil/testimage"
)

// needVMDriver skips unless QEMU and the guest kernel are installed (make
// deps), then builds the vm driver and its guest agent into binDir once.
func needVMDriver(t *testing.T) {
	t.Helper()
	vmDriverEnv(t)
}

// The same image gives the same output on every driver, and no driver
// writes into the image.
func TestImageSameOnDrivers(t *testing.T) {
	e := newEnv(t)
	host := testimage.Registry(t)
	ref := host + "/app:1"
	testimage.Push(t, ref, appImage(t))
	e.ok("pull", "-q", ref)
	snap := filepath.Join(e.root, "images", "snapshots")
	before := treeHash(t, snap)
	drivers := []string{"linux"}
	if _, err := exec.LookPath("runsc"); err == nil {
		drivers = append(drivers, "gvisor")
	} else {
		t.Log("runsc not installed: gvisor left out (make deps installs it)")
	}
	if !testing.Short() {
		t.Run("vm", func(t *testing.T) { needVMDriver(t) })
		if _, err := os.Stat(filepath.Join(binDir, "rtd-driver-vm")); err == nil {
			drivers = append(drivers, "vm")
		}
	}
	for _, d := range drivers {
		r := e.ok("run", "--rm", "--driver", d, ref, `echo "$GREETING $(pwd) $(id -u)"; cat hi; ls /data; echo x > /srv/open; mkdir /srv/w; cat /srv/open`)
		if want := "hello /srv 1000\nhi from the image\nnew\nx\n"; r.stdout != want {
			t.Errorf("driver %s: %s\nwant stdout %q", d, r, want)
		}
	}
	if treeHash(t, snap) != before {
		t.Fatal("a driver wrote into the image")
	}
}

// A wasi/wasm image goes to the wasm driver when no driver is named.
func TestWasmImageRoutesToWasmDriver(t *testing.T) {
	e := newEnv(t)
	mod, err := os.ReadFile(filepath.Join(wasmRootfs(t), "hello.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	img := testimage.Image(t, testimage.Config{OS: "wasip1", Arch: "wasm", LayerTitles: map[int]string{0: "hello.wasm"}}, testimage.WasmLayer(mod))
	layout := t.TempDir()
	testimage.WriteLayout(t, layout, img)
	e.ok("run", "-d", "--name", "wa", layout)
	e.ok("wait", "wa")
	if d := e.recordedDriver("wa"); d != "wasm" {
		t.Fatalf("a wasi/wasm image ran on %q, want wasm", d)
	}
	if r := e.ok("logs", "wa"); !strings.Contains(r.stdout, "Hello from WebAssembly!") {
		t.Fatalf("logs: %s", r)
	}
	e.ok("rm", "wa")
}
