//go:build linux

package imagestore_test

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/internal/imagestore"
	"github.com/rtd-project/rtd/internal/testutil/testimage"
)

// A pull that fills the disk fails with ResourceExhausted and keeps
// nothing of the layer it was writing.
func TestPullDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts a small tmpfs")
	}
	root := t.TempDir()
	if err := unix.Mount("tmpfs", root, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount a 1 MiB tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(root, unix.MNT_DETACH) })
	noise := make([]byte, 3<<20) // incompressible: the layer stays ~3 MiB
	rand.Read(noise)
	host := testimage.Registry(t)
	testimage.Push(t, host+"/big:1", testimage.Image(t, testimage.Config{Cmd: []string{"x"}},
		testimage.Layer(t, testimage.File{Name: "noise", Body: string(noise)})))
	s, err := imagestore.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Pull(context.Background(), host+"/big:1", imagestore.PullOptions{})
	if !errdefs.IsResourceExhausted(err) {
		t.Fatalf("pull onto a full disk: %v, want ResourceExhausted", err)
	}
	left, _ := filepath.Glob(filepath.Join(root, "blobs", "sha256", "*"))
	if len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}
