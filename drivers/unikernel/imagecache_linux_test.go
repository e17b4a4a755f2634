package unikernel

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/testutil"
	"github.com/rtd-project/rtd/internal/vmm"
)

// Two linux-guest containers of one image (its snapshot in an image
// store, named by the core's annotation): the second boots from the EROFS
// block image the first built next to the snapshot, not a new one, and
// sees none of the first one's writes; the snapshot is unchanged.
func TestLinuxGuestImageBlockImageCached(t *testing.T) {
	linuxGuest(t)
	// An image store's snapshot, laid out as internal/imagestore does.
	const key = "4242424242424242424242424242424242424242424242424242424242424242"
	store := t.TempDir()
	snap := filepath.Join(store, "snapshots", key)
	if err := os.MkdirAll(snap, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", testutil.BusyboxRootfs(t), filepath.Join(snap, "rootfs")).CombinedOutput(); err != nil {
		t.Fatalf("copy rootfs: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(store, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	d := New(Options{StateDir: t.TempDir()})
	run := func(id, script string) string {
		t.Helper()
		spec := testutil.Spec(filepath.Join(snap, "rootfs"), "sh", "-c", script)
		spec.Annotations = map[string]string{AnnotType: base64.StdEncoding.EncodeToString([]byte("linux")), vmm.AnnotSnapshot: key}
		stdout, got := fifo(t, id+".out")
		if _, err := d.Create(ctx, &driver.CreateRequest{ID: id, Bundle: testutil.Bundle(t, spec), Stdio: driver.Stdio{Stdout: stdout}}); err != nil {
			t.Fatal(err)
		}
		if err := d.Start(ctx, id); err != nil {
			t.Fatal(err)
		}
		if st, err := d.Wait(ctx, &driver.WaitRequest{ID: id}); err != nil || st.Code != 0 {
			t.Fatalf("%s: exit %+v, %v", id, st, err)
		}
		out := <-got
		if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: id}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := run("u1", "echo written > /etc/motd; echo new > /f; cat /f"); out != "new\n" {
		t.Fatalf("first container: stdout %q", out)
	}
	img := filepath.Join(snap, vmm.SnapshotErofsName)
	fi, err := os.Stat(img)
	if err != nil {
		t.Fatalf("the first container cached no block image: %v", err)
	}
	if out := run("u2", "test -e /f && echo leaked; cat /etc/motd 2>/dev/null; echo ok"); out != "ok\n" {
		t.Errorf("second container: stdout %q, want none of the first one's writes", out)
	}
	if fi2, err := os.Stat(img); err != nil || !os.SameFile(fi, fi2) || !fi2.ModTime().Equal(fi.ModTime()) {
		t.Errorf("the cached block image was rebuilt or replaced (%v)", err)
	}
	for _, p := range []string{"f", "etc/motd"} {
		if _, err := os.Stat(filepath.Join(snap, "rootfs", p)); !os.IsNotExist(err) {
			t.Errorf("the snapshot has /%s: %v", p, err)
		}
	}
}
