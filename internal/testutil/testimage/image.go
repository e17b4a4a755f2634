package testimage

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Config is what an image says about how to run it.
type Config struct {
	Entrypoint, Cmd, Env []string
	WorkingDir, User     string
	Labels               map[string]string
	// OS and Arch default to linux/amd64.
	OS, Arch string
	// Annotations go on the manifest (urunc's com.urunc.unikernel.*).
	Annotations map[string]string
	// LayerTitles, by layer index, set org.opencontainers.image.title on
	// that layer's descriptor (a module layer's file name).
	LayerTitles map[int]string
}

// Image is an OCI image (manifest and config of OCI media types) of
// layers, bottom first, with cfg.
func Image(t testing.TB, cfg Config, layers ...v1.Layer) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	var adds []mutate.Addendum
	for i, l := range layers {
		a := mutate.Addendum{Layer: l}
		if title := cfg.LayerTitles[i]; title != "" {
			a.Annotations = map[string]string{"org.opencontainers.image.title": title}
		}
		adds = append(adds, a)
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		t.Fatalf("testimage: append layers: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = cfg.OS, cfg.Arch
	if cf.OS == "" {
		cf.OS = "linux"
	}
	if cf.Architecture == "" {
		cf.Architecture = "amd64"
	}
	cf.Config = v1.Config{
		Entrypoint: cfg.Entrypoint, Cmd: cfg.Cmd, Env: cfg.Env,
		WorkingDir: cfg.WorkingDir, User: cfg.User, Labels: cfg.Labels,
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Annotations) > 0 {
		img = mutate.Annotations(img, cfg.Annotations).(v1.Image)
	}
	return img
}

// Index is a multi-platform OCI index of imgs, each with its config's
// platform.
func Index(t testing.TB, imgs ...v1.Image) v1.ImageIndex {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: cf.OS, Architecture: cf.Architecture},
		}})
	}
	return idx
}

// Digest is img's manifest digest (sha256:...).
func Digest(t testing.TB, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}
