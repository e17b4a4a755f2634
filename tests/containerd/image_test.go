//go:build linux

package containerd

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rtd-project/rtd/internal/testutil/testimage"
)

// The test images, built from the host's busybox-static and a static Go
// pause program by the shared test-image builder; nothing is pulled.
const (
	busyboxImage = "docker.io/rtd/busybox:test"
	pauseImage   = "docker.io/rtd/pause:test"
)

var (
	imageOnce sync.Once
	imageTar  string
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
	imageOnce.Do(func() { imageTar = buildImages(d.t) })
	if imageTar == "" {
		d.t.Fatal("building the test images failed in an earlier test")
	}
	for _, ns := range []string{"default", "k8s.io"} {
		ok(d.t, d.ctrNS(ns, "images", "import", "--all-platforms", imageTar))
	}
}

// buildImages writes an OCI archive holding both images (one layer:
// busybox with a link per applet, /pause and /etc) into binDir, which
// outlives the test that builds it.
func buildImages(t *testing.T) string {
	t.Helper()
	files := append([]testimage.File{}, testimage.BusyboxFiles(t)...)
	files = append(files,
		testimage.File{Name: "pause", Body: string(testimage.GoProgram(t, pauseSource, "", "")), Mode: 0o755},
		testimage.File{Name: "etc/hosts", Body: "127.0.0.1 localhost\n"})
	layer := testimage.Layer(t, files...)
	images := map[string]v1.Image{
		busyboxImage: testimage.Image(t, testimage.Config{Cmd: []string{"/bin/sh"}, Env: []string{"PATH=/bin"}}, layer),
		pauseImage:   testimage.Image(t, testimage.Config{Entrypoint: []string{"/pause"}, Env: []string{"PATH=/bin"}}, layer),
	}
	tmp, err := os.MkdirTemp(binDir, "img")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "images.tar")
	testimage.WriteOCIArchive(t, out, images)
	return out
}
