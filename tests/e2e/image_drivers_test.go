//go:build linux

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rtd-project/rtd/internal/testutil/testimage"
	"github.com/rtd-project/rtd/internal/vmm"
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
	snaps, err := os.ReadDir(filepath.Join(e.root, "images", "snapshots"))
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshots after a pull: %v, %v", snaps, err)
	}
	snap := filepath.Join(e.root, "images", "snapshots", snaps[0].Name())
	rootfs := filepath.Join(snap, "rootfs")
	before := treeHash(t, rootfs)
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
	if treeHash(t, rootfs) != before {
		t.Fatal("a driver wrote into the image")
	}
	if !slices.Contains(drivers, "vm") {
		return
	}
	// The vm driver built the image's EROFS block image once, next to the
	// snapshot: a second container boots from it (not rebuilt) and sees
	// none of the first one's writes.
	img := filepath.Join(snap, vmm.SnapshotErofsName)
	fi, err := os.Stat(img)
	if err != nil {
		t.Fatalf("the vm driver cached no block image of the image: %v", err)
	}
	r := e.ok("run", "--rm", "--driver", "vm", ref, "cat /srv/open; ls /srv")
	if want := "writable by all\nhi\nopen\n"; r.stdout != want {
		t.Errorf("a second vm container: %s\nwant stdout %q", r, want)
	}
	if fi2, err := os.Stat(img); err != nil || !os.SameFile(fi, fi2) || !fi2.ModTime().Equal(fi.ModTime()) {
		t.Errorf("the cached block image was rebuilt or replaced (%v)", err)
	}
	if treeHash(t, rootfs) != before {
		t.Fatal("the vm driver wrote into the image")
	}
	// rmi removes it with the snapshot.
	e.ok("rmi", ref)
	if _, err := os.Stat(snap); !os.IsNotExist(err) {
		t.Fatalf("after rmi the snapshot and its block image remain: %v", err)
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
