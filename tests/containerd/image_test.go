//go:build linux

package containerd

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The test images, built from the host's busybox-static and a static Go
// pause program; nothing is pulled.
const (
	busyboxImage = "docker.io/rtd/busybox:test"
	pauseImage   = "docker.io/rtd/pause:test"
)

var (
	imageOnce sync.Once
	imageTar  string
	imageErr  error
)

// pauseSource is the pod sandbox's process: it waits for SIGTERM/SIGINT.
const pauseSource = `package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	<-c
}
`

// importImages imports the test images into the daemon's default and
// k8s.io namespaces.
func (d *daemon) importImages() {
	d.t.Helper()
	imageOnce.Do(func() { imageTar, imageErr = buildImages() })
	if imageErr != nil {
		d.t.Fatalf("build test images: %v", imageErr)
	}
	for _, ns := range []string{"default", "k8s.io"} {
		ok(d.t, d.ctrNS(ns, "images", "import", "--all-platforms", imageTar))
	}
}

// buildImages writes an OCI archive holding both images.
func buildImages() (string, error) {
	tmp, err := os.MkdirTemp(binDir, "img")
	if err != nil {
		return "", err
	}
	pause := filepath.Join(tmp, "pause")
	if err := buildPause(tmp, pause); err != nil {
		return "", err
	}
	layerTar, err := rootfsLayer(pause)
	if err != nil {
		return "", err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return "", err
	}
	dir := filepath.Join(tmp, "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return "", err
	}
	for _, im := range []struct {
		name string
		cfg  v1.Config
	}{
		{busyboxImage, v1.Config{Cmd: []string{"/bin/sh"}, Env: []string{"PATH=/bin"}}},
		{pauseImage, v1.Config{Entrypoint: []string{"/pause"}, Env: []string{"PATH=/bin"}}},
	} {
		img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
		if err != nil {
			return "", err
		}
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		cf, err := img.ConfigFile()
		if err != nil {
			return "", err
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture, cf.Config = "linux", "amd64", im.cfg
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			return "", err
		}
		if err := p.AppendImage(img,
			layout.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}),
			layout.WithAnnotations(map[string]string{
				"io.containerd.image.name":          im.name,
				"org.opencontainers.image.ref.name": im.name[strings.LastIndex(im.name, ":")+1:],
			})); err != nil {
			return "", err
		}
	}
	out := filepath.Join(tmp, "images.tar")
	return out, tarDir(dir, out)
}

func buildPause(dir, out string) error {
	src := filepath.Join(dir, "pausesrc")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(pauseSource), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module pause\n\ngo 1.22\n"), 0o644); err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-ldflags", "-s -w", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build pause: %v: %s", err, b)
	}
	return nil
}

// rootfsLayer is a tar of busybox with a link per applet, /pause and the
// usual directories.
func rootfsLayer(pause string) ([]byte, error) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		return nil, fmt.Errorf("busybox not installed (make deps installs busybox-static)")
	}
	applets, err := exec.Command(bb, "--list").Output()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"bin", "dev", "etc", "proc", "sys", "tmp", "root", "run"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755}); err != nil {
			return nil, err
		}
	}
	files := map[string]string{"bin/busybox": bb, "pause": pause}
	for name, src := range files {
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o755, Size: int64(len(data))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	etc := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
		"etc/group":  "root:x:0:\n",
		"etc/hosts":  "127.0.0.1 localhost\n",
	}
	for name, s := range etc {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(s))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(s)); err != nil {
			return nil, err
		}
	}
	for _, a := range strings.Fields(string(applets)) {
		if a == "busybox" {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tarDir writes the files of dir into a tar archive at out.
func tarDir(dir, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := e.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name = rel
		if e.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
