//go:build linux

package e2e

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtd-project/rtd/internal/testutil/testimage"
)

// tarEntries reads a tar stream: name -> content ("->target" for a link,
// "/" for a directory).
func tarEntries(t *testing.T, data string) map[string]string {
	t.Helper()
	got := map[string]string{}
	tr := tar.NewReader(strings.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatalf("the stream is not a tar: %v", err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			got[strings.TrimSuffix(h.Name, "/")] = "/"
		case tar.TypeSymlink:
			got[h.Name] = "->" + h.Linkname
		default:
			b, _ := io.ReadAll(tr)
			got[h.Name] = string(b)
		}
	}
}

// TestCpArchiveFollowStream: cp -a keeps owners (without it the copy is
// root's), -L copies what a link points to under the link's name, and -
// is a tar stream on stdout (from a container) or stdin (into one).
func TestCpArchiveFollowStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := uniqueID("cpa")
	e.ok("run", "-d", "--name", id, rootfs(t), "sleep", "1000")
	host := t.TempDir()
	f := filepath.Join(host, "owned")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(f, 1234, 5678); err != nil {
		t.Fatal(err)
	}
	e.ok("cp", f, id+":/tmp/plain")
	e.ok("cp", "-a", f, id+":/tmp/kept")
	if r := e.ok("exec", id, "stat", "-c", "%u:%g", "/tmp/plain", "/tmp/kept"); r.stdout != "0:0\n1234:5678\n" {
		t.Errorf("owners after cp and cp -a: %q, want 0:0 and 1234:5678", r.stdout)
	}

	e.ok("exec", id, "sh", "-c", "mkdir -p /tmp/out/sub && echo g > /tmp/out/sub/g && ln -s /tmp/out/sub/g /tmp/lnk && ln -s out /tmp/dirlnk")
	e.ok("cp", id+":/tmp/lnk", filepath.Join(host, "nofollow"))
	if target, err := os.Readlink(filepath.Join(host, "nofollow")); err != nil || target != "/tmp/out/sub/g" {
		t.Errorf("cp of a link without -L: %q, %v, want the link itself", target, err)
	}
	e.ok("cp", "-L", id+":/tmp/lnk", filepath.Join(host, "follow"))
	if b, err := os.ReadFile(filepath.Join(host, "follow")); err != nil || string(b) != "g\n" {
		t.Errorf("cp -L of a link: %q, %v, want the file it points to", b, err)
	}
	if fi, err := os.Lstat(filepath.Join(host, "follow")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("cp -L made %v, %v, want a regular file", fi, err)
	}
	// A host-side link, into the container.
	if err := os.Symlink("owned", filepath.Join(host, "hostlnk")); err != nil {
		t.Fatal(err)
	}
	e.ok("cp", "-L", filepath.Join(host, "hostlnk"), id+":/tmp/")
	if r := e.ok("exec", id, "sh", "-c", "test -L /tmp/hostlnk || cat /tmp/hostlnk"); r.stdout != "x" {
		t.Errorf("cp -L of a host link: %q, want the content of the file it points to", r.stdout)
	}

	// To stdout: one entry named after the source, a tree as it is.
	if got := tarEntries(t, e.ok("cp", id+":/tmp/out", "-").stdout); len(got) != 3 || got["out"] != "/" || got["out/sub/g"] != "g\n" {
		t.Errorf("cp CONTAINER:/tmp/out -: entries %v", got)
	}
	if got := tarEntries(t, e.ok("cp", id+":/tmp/lnk", "-").stdout); len(got) != 1 || got["lnk"] != "->/tmp/out/sub/g" {
		t.Errorf("cp CONTAINER:/tmp/lnk -: entries %v", got)
	}
	if got := tarEntries(t, e.ok("cp", "-L", id+":/tmp/dirlnk", "-").stdout); got["dirlnk"] != "/" || got["dirlnk/sub/g"] != "g\n" {
		t.Errorf("cp -L CONTAINER:/tmp/dirlnk -: entries %v", got)
	}

	// From stdin: unpacked into the directory given.
	in := testimage.Tar(t, testimage.Dir("d"), testimage.File{Name: "d/f", Body: "from stdin"}, testimage.File{Name: "d/l", Symlink: "f"})
	if r := e.rtdIn(bytes.NewReader(in), "cp", "-", id+":/tmp"); r.code != 0 {
		t.Fatalf("cp - CONTAINER:/tmp: %s", r)
	}
	if r := e.ok("exec", id, "sh", "-c", "cat /tmp/d/f; readlink /tmp/d/l"); r.stdout != "from stdinf\n" {
		t.Errorf("after cp - CONTAINER:/tmp: %q", r.stdout)
	}
	if r := e.rtdIn(bytes.NewReader(in), "cp", "-", id+":/tmp/plain"); r.code != 1 || !strings.Contains(r.stderr, "must be a directory") {
		t.Errorf("cp - into a file: %s", r)
	}
	if r := e.rtdIn(strings.NewReader("not a tar at all, not at all"), "cp", "-", id+":/tmp"); r.code != 1 {
		t.Errorf("cp - of garbage: %s", r)
	}
	e.ok("rm", "-f", id)
}
