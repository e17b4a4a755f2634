package testimage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// WriteDockerTar writes img as `docker save` does (manifest.json with
// RepoTags ref) to path.
func WriteDockerTar(t testing.TB, path, ref string, img v1.Image) {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatalf("testimage: docker tar: %v", err)
	}
}

// WriteLayout writes an OCI image layout directory holding img (with its
// platform in index.json) to dir.
func WriteLayout(t testing.TB, dir string, img v1.Image, annotations ...map[string]string) layout.Path {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	opts := []layout.Option{layout.WithPlatform(v1.Platform{OS: cf.OS, Architecture: cf.Architecture})}
	for _, a := range annotations {
		opts = append(opts, layout.WithAnnotations(a))
	}
	if err := p.AppendImage(img, opts...); err != nil {
		t.Fatalf("testimage: layout: %v", err)
	}
	return p
}

// WriteOCIArchive writes an OCI archive (a tar of an OCI image layout, as
// `ctr export` and `docker save` of docker 25 write) of images, keyed by
// their full names (io.containerd.image.name; the tag goes into
// org.opencontainers.image.ref.name), to path.
func WriteOCIArchive(t testing.TB, path string, images map[string]v1.Image) {
	t.Helper()
	dir := t.TempDir()
	var p layout.Path
	for ref, img := range images {
		tag, err := name.NewTag(ref)
		if err != nil {
			t.Fatal(err)
		}
		if p == "" {
			p = WriteLayout(t, dir, img, map[string]string{"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": tag.TagStr()})
			continue
		}
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": tag.TagStr()})); err != nil {
			t.Fatal(err)
		}
	}
	var files []File
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if fi.IsDir() {
			files = append(files, Dir(rel))
			return nil
		}
		data, err := os.ReadFile(p)
		files = append(files, File{Name: rel, Body: string(data)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, Tar(t, files...), 0o644); err != nil {
		t.Fatal(err)
	}
}
