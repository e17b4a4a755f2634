package vmm

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rtd-project/rtd/core"
)

// The drivers read the annotation the core writes.
func TestAnnotSnapshotIsTheCores(t *testing.T) {
	if AnnotSnapshot != core.AnnotSnapshot {
		t.Fatalf("vmm.AnnotSnapshot %q, core.AnnotSnapshot %q", AnnotSnapshot, core.AnnotSnapshot)
	}
}

// fakeStore lays out an image store's snapshot of key with one file, as
// internal/imagestore does, and returns its rootfs.
func fakeStore(t *testing.T, key string) string {
	t.Helper()
	root := t.TempDir()
	rootfs := filepath.Join(root, "snapshots", key, "rootfs")
	if err := os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "etc", "hostname"), []byte("image\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return rootfs
}

// countingMkfs is a mkfs.erofs that counts its runs in the file it
// returns, and takes a while (so concurrent callers overlap).
func countingMkfs(t *testing.T) (mkfs, count string) {
	t.Helper()
	real, err := exec.LookPath("mkfs.erofs")
	if err != nil {
		t.Skip("mkfs.erofs not found: apt-get install erofs-utils (make deps)")
	}
	dir := t.TempDir()
	count = filepath.Join(dir, "count")
	mkfs = filepath.Join(dir, "mkfs")
	script := "#!/bin/sh\necho run >> " + count + "\nsleep 0.2\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(mkfs, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return mkfs, count
}

func runs(t *testing.T, count string) int {
	data, err := os.ReadFile(count)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "run")
}

const testKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// The second container of an image gets the image the first one built;
// concurrent creates build it once.
func TestRootfsImageCachedPerSnapshot(t *testing.T) {
	mkfs, count := countingMkfs(t)
	rootfs := fakeStore(t, testKey)
	ctx := context.Background()
	paths := make([]string, 4)
	cached := make([]bool, 4)
	var wg sync.WaitGroup
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			paths[i], cached[i], err = RootfsImage(ctx, mkfs, rootfs, testKey, filepath.Join(t.TempDir(), "rootfs.img"))
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := runs(t, count); n != 1 {
		t.Fatalf("4 concurrent creates of one image ran mkfs.erofs %d times, want 1", n)
	}
	want := filepath.Join(filepath.Dir(rootfs), SnapshotErofsName)
	built := 0
	for i, p := range paths {
		if p != want {
			t.Errorf("create %d got %s, want the cached %s", i, p, want)
		}
		if !cached[i] {
			built++
		}
	}
	if built != 1 {
		t.Errorf("%d creates say they built the image, want 1", built)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(rootfs), ".rootfs.erofs-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// A later container: no mkfs.erofs at all.
	p, hit, err := RootfsImage(ctx, "/nonexistent/mkfs.erofs", rootfs, testKey, filepath.Join(t.TempDir(), "rootfs.img"))
	if err != nil || !hit || p != want {
		t.Fatalf("second container: %s, cached %v, %v; want the cached image without a build", p, hit, err)
	}
	if fi, err := os.Stat(want); err != nil || fi.Size() == 0 {
		t.Fatalf("cached image: %v", err)
	}
}

// A key that does not name the directory as an image store's snapshot
// caches nothing and writes nothing next to the directory.
func TestRootfsImageNotCached(t *testing.T) {
	mkfs, count := countingMkfs(t)
	ctx := context.Background()
	store := fakeStore(t, testKey)
	plain := filepath.Join(t.TempDir(), testKey, "rootfs") // no oci-layout above
	if err := os.MkdirAll(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, rootfs, key string }{
		{"no key", store, ""},
		{"another key", store, strings.Repeat("f", 64)},
		{"a key that is a path", store, "../" + testKey},
		{"not an image store", plain, testKey},
		{"relative", "rootfs", testKey},
	}
	for i, tc := range cases {
		fallback := filepath.Join(t.TempDir(), "rootfs.img")
		p, hit, err := RootfsImage(ctx, mkfs, tc.rootfs, tc.key, fallback)
		if tc.rootfs == "rootfs" {
			// mkfs of a missing dir fails: what matters is no cache.
			if hit {
				t.Errorf("%s: cached", tc.name)
			}
			continue
		}
		if err != nil || hit || p != fallback {
			t.Errorf("%s: %s, cached %v, %v; want a build at %s", tc.name, p, hit, err, fallback)
		}
		if n := runs(t, count); n != i+1 {
			t.Errorf("%s: %d builds so far, want %d", tc.name, n, i+1)
		}
	}
	for _, d := range []string{filepath.Dir(store), filepath.Dir(plain)} {
		if _, err := os.Stat(filepath.Join(d, SnapshotErofsName)); !os.IsNotExist(err) {
			t.Errorf("an image was cached in %s", d)
		}
	}
}
