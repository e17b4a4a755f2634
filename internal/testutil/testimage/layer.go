package testimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one entry of a layer.
type File struct {
	Name string // path in the image, without a leading slash
	Body string // content of a regular file
	Mode int64  // permission bits; 0: 0644 for files, 0755 for dirs
	Dir  bool
	// Symlink makes a symbolic link to this target; Hardlink a hard link
	// to this entry of the layer.
	Symlink, Hardlink string
}

// Dir is a directory entry.
func Dir(name string) File { return File{Name: name, Dir: true} }

// Whiteout deletes name (a file or directory of a lower layer).
func Whiteout(name string) File {
	return File{Name: filepath.Join(filepath.Dir(name), ".wh."+filepath.Base(name))}
}

// Opaque hides everything lower layers put in dir.
func Opaque(dir string) File { return File{Name: filepath.Join(dir, ".wh..wh..opq")} }

// Tar returns the uncompressed tar of files, in order.
func Tar(t testing.TB, files ...File) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.Name, Mode: f.Mode, Typeflag: tar.TypeReg, Size: int64(len(f.Body))}
		switch {
		case f.Dir:
			h.Typeflag, h.Size = tar.TypeDir, 0
			if h.Mode == 0 {
				h.Mode = 0o755
			}
		case f.Symlink != "":
			h.Typeflag, h.Linkname, h.Size, h.Mode = tar.TypeSymlink, f.Symlink, 0, 0o777
		case f.Hardlink != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, f.Hardlink, 0
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("testimage: tar %s: %v", f.Name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, f.Body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Layer is a gzip-compressed OCI layer holding files.
func Layer(t testing.TB, files ...File) v1.Layer {
	t.Helper()
	return LayerFromTar(t, Tar(t, files...))
}

// LayerFromTar is a gzip-compressed OCI layer of an uncompressed tar.
func LayerFromTar(t testing.TB, data []byte) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatalf("testimage: layer: %v", err)
	}
	return l
}

// WasmLayer is a WebAssembly module layer (media type
// application/vnd.wasm.content.layer.v1+wasm) titled name.
func WasmLayer(module []byte) v1.Layer {
	return static.NewLayer(module, "application/vnd.wasm.content.layer.v1+wasm")
}

var (
	busyboxOnce  sync.Once
	busyboxFiles []File
	busyboxErr   error
)

// BusyboxFiles are the entries of a busybox root filesystem: the host's
// busybox-static as /bin/busybox, a symlink per applet, /etc/passwd and
// /etc/group (root, and user "app" 1000:1000), and the usual directories.
func BusyboxFiles(t testing.TB) []File {
	t.Helper()
	busyboxOnce.Do(func() {
		bb, err := exec.LookPath("busybox")
		if err != nil {
			busyboxErr = fmt.Errorf("busybox not installed (make deps installs busybox-static)")
			return
		}
		data, err := os.ReadFile(bb)
		if err != nil {
			busyboxErr = err
			return
		}
		list, err := exec.Command(bb, "--list").Output()
		if err != nil {
			busyboxErr = err
			return
		}
		fs := []File{Dir("bin"), Dir("dev"), Dir("etc"), Dir("proc"), Dir("sys"), Dir("root"), Dir("run"), Dir("home"),
			{Name: "tmp", Dir: true, Mode: 0o1777},
			{Name: "bin/busybox", Body: string(data), Mode: 0o755},
			{Name: "etc/passwd", Body: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home:/bin/sh\n"},
			{Name: "etc/group", Body: "root:x:0:\napp:x:1000:\n"},
		}
		for _, a := range strings.Fields(string(list)) {
			if a != "busybox" {
				fs = append(fs, File{Name: "bin/" + a, Symlink: "busybox"})
			}
		}
		busyboxFiles = fs
	})
	if busyboxErr != nil {
		t.Skipf("testimage: %v", busyboxErr)
	}
	return busyboxFiles
}

// Busybox is a layer of BusyboxFiles.
func Busybox(t testing.TB) v1.Layer {
	t.Helper()
	return Layer(t, BusyboxFiles(t)...)
}

// GoProgram builds the Go program src (a main package's source) static,
// for goos/goarch (linux/amd64 when empty, wasip1/wasm for a module), and
// returns the binary.
func GoProgram(t testing.TB, src, goos, goarch string) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module prog\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if goos == "" {
		goos, goarch = "linux", "amd64"
	}
	out := filepath.Join(dir, "prog")
	cmd := exec.Command("go", "build", "-ldflags", "-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch, "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testimage: go build: %v: %s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
