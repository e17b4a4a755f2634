package core

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/imagestore"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// HelloImage is the name of the embedded default image.
const HelloImage = "hello"

// ImageKind says what an image argument turned out to be.
type ImageKind string

// Image kinds.
const (
	// KindHello is the embedded default image: the static rtd binary
	// bind-mounted read-only at /hello in an empty root.
	KindHello ImageKind = "hello"
	// KindBundle is an OCI bundle directory (it holds config.json).
	KindBundle ImageKind = "bundle"
	// KindRootfs is a root filesystem directory run with DefaultSpec.
	KindRootfs ImageKind = "rootfs"
)

// Image is a resolved image argument.
type Image struct {
	Kind ImageKind
	// Ref is the argument as given.
	Ref string
	// Dir is the absolute bundle or root filesystem directory ("" for hello).
	Dir string
	// Spec is the bundle's config.json (root.path made absolute) or, for
	// the other kinds, nil until BuildSpec fills in the default.
	Spec *specs.Spec
	// Binary is the executable served as /hello (KindHello only).
	Binary string
	// Stored is the store's image (KindImage only); Dir is then its
	// unpacked root filesystem, shared and never written.
	Stored *imagestore.Image
}

// ResolveImage finds out what a local ref is: "hello", an OCI bundle
// directory (holds config.json) or a root filesystem directory (Core.Resolve
// also knows the image store and OCI image layouts). It reads but never
// writes. A missing directory is NotFound; a malformed config.json is
// InvalidArgument naming the file, the line and the column.
func ResolveImage(ref, helloBinary string) (*Image, error) {
	if ref == HelloImage {
		if helloBinary == "" {
			exe, err := os.Executable()
			if err != nil {
				return nil, driver.FailedPreconditionf("image %q: cannot find the rtd executable: %v", ref, err)
			}
			helloBinary = exe
		}
		if err := CheckStatic(helloBinary); err != nil {
			return nil, err
		}
		return &Image{Kind: KindHello, Ref: ref, Binary: helloBinary}, nil
	}
	want := `(want "hello", an image name, an OCI bundle dir or a root filesystem dir)`
	if ref == "" {
		return nil, driver.InvalidArgumentf("empty image %s", want)
	}
	dir, err := filepath.Abs(ref)
	if err != nil {
		return nil, driver.InvalidArgumentf("image %q: %v", ref, err)
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, driver.NotFoundf("image %q: no such file or directory %s", ref, want)
	case err != nil:
		return nil, driver.InvalidArgumentf("image %q: %v", ref, err)
	case !fi.IsDir():
		return nil, driver.InvalidArgumentf("image %q: not a directory %s", ref, want)
	}
	config := filepath.Join(dir, "config.json")
	if _, err := os.Stat(config); err == nil {
		spec, err := ocispec.LoadFile(config)
		if err != nil {
			return nil, err
		}
		if spec.Root == nil || spec.Root.Path == "" {
			spec.Root = &specs.Root{Path: "rootfs"}
		}
		if !filepath.IsAbs(spec.Root.Path) {
			spec.Root.Path = filepath.Join(dir, spec.Root.Path)
		}
		if fi, err := os.Stat(spec.Root.Path); err != nil || !fi.IsDir() {
			return nil, driver.NotFoundf("image %q: bundle root.path %s: no such directory", ref, spec.Root.Path)
		}
		if msg := ocispec.CheckRootfs(spec.Root.Path); msg != "" {
			return nil, driver.InvalidArgumentf("image %q: %s", ref, msg)
		}
		return &Image{Kind: KindBundle, Ref: ref, Dir: dir, Spec: spec}, nil
	}
	if msg := ocispec.CheckRootfs(dir); msg != "" {
		return nil, driver.InvalidArgumentf("image %q: %s", ref, msg)
	}
	return &Image{Kind: KindRootfs, Ref: ref, Dir: dir}, nil
}
