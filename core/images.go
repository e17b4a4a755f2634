package core

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/imagestore"
)

// KindImage is an image of the image store (pulled, loaded, or imported
// from an OCI image layout directory), run from its unpacked snapshot.
const KindImage ImageKind = "image"

// ImageRootEnv names the environment variable that overrides where images
// are kept.
const ImageRootEnv = "RTD_IMAGE_ROOT"

// DefaultImageRoot is where images are kept with the default root: on
// disk, unlike the records under /run.
const DefaultImageRoot = "/var/lib/rtd/images"

// Annotations the core adds to the spec of a container run from an image.
const (
	// AnnotImageName is the image's name (or digest when it has none).
	AnnotImageName = "org.opencontainers.image.ref.name"
	// AnnotImageDigest is the image's manifest digest.
	AnnotImageDigest = "io.rtd.image.digest"
	// AnnotSnapshot is the key of the image's unpacked root filesystem (the
	// chain id of its layers): a driver may cache what it builds from the
	// root filesystem under it.
	AnnotSnapshot = "io.rtd.image.snapshot"
)

// uruncAnnotationPrefix starts urunc's annotations: an image carrying them
// declares a unikernel.
const uruncAnnotationPrefix = "com.urunc.unikernel."

// imageRoot picks the image store's directory: opts.ImageRoot, else
// $RTD_IMAGE_ROOT, else DefaultImageRoot for the default root and
// <root>/images for any other root (so a test's root keeps its images).
func imageRoot(opts Options) string {
	switch {
	case opts.ImageRoot != "":
		return opts.ImageRoot
	case os.Getenv(ImageRootEnv) != "":
		return os.Getenv(ImageRootEnv)
	case opts.Root == DefaultRoot:
		return DefaultImageRoot
	}
	return filepath.Join(opts.Root, "images")
}

// Images opens the image store.
func (c *Core) Images() (*imagestore.Store, error) {
	c.imagesOnce.Do(func() { c.images, c.imagesErr = imagestore.Open(c.imageRoot) })
	return c.images, c.imagesErr
}

// ImageInUse tells the image store whether a container still uses an image
// digest or a snapshot key.
func (c *Core) ImageInUse() imagestore.InUse {
	recs, _ := c.Records()
	used := map[string]bool{}
	for _, r := range recs {
		if r.ImageDigest != "" {
			used[r.ImageDigest] = true
		}
		if r.Snapshot != "" {
			used[r.Snapshot] = true
		}
	}
	return func(key string) bool { return used[key] }
}

// Resolve finds out what an image argument is: "hello"; a directory (an
// OCI image layout, imported into the store and run from it; an OCI
// bundle; a root filesystem); else a name or digest of the image store.
// A store image is unpacked (once) before Resolve returns.
func (c *Core) Resolve(ctx context.Context, ref string) (*Image, error) {
	if ref == HelloImage || ref == "" {
		return ResolveImage(ref, c.helloBinary)
	}
	fi, statErr := os.Stat(ref)
	if statErr == nil && fi.IsDir() && imagestore.IsLayout(ref) {
		s, err := c.Images()
		if err != nil {
			return nil, err
		}
		im, err := s.ImportLayout(ctx, ref, imagestore.LoadOptions{})
		if err != nil {
			return nil, err
		}
		return c.storeImage(ctx, ref, im)
	}
	if statErr == nil || looksLikePath(ref) || !errors.Is(statErr, fs.ErrNotExist) {
		return ResolveImage(ref, c.helloBinary)
	}
	if _, err := imagestore.Normalize(ref); err != nil {
		return ResolveImage(ref, c.helloBinary) // neither a path nor a name: says so
	}
	s, err := c.Images()
	if err != nil {
		return nil, err
	}
	im, err := s.Lookup(ref)
	if err != nil {
		return nil, err
	}
	return c.storeImage(ctx, ref, im)
}

func looksLikePath(ref string) bool {
	return strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") || ref == "." || ref == ".."
}

func (c *Core) storeImage(ctx context.Context, ref string, im *imagestore.Image) (*Image, error) {
	s, err := c.Images()
	if err != nil {
		return nil, err
	}
	dir, err := s.Unpack(ctx, im)
	if err != nil {
		return nil, err
	}
	return &Image{Kind: KindImage, Ref: ref, Dir: dir, Stored: im}, nil
}

// Wasm reports whether img is a WebAssembly image (platform wasi/wasm or
// module layers): the wasm driver runs it when no driver is named.
func (img *Image) Wasm() bool {
	return img.Stored != nil && imagestore.IsWasmImage(img.Stored)
}

// Unikernel reports whether img declares a unikernel with urunc's
// annotations: the unikernel driver runs it when no driver is named.
func (img *Image) Unikernel() bool {
	if img.Stored == nil {
		return false
	}
	for k := range img.Stored.Annotations {
		if strings.HasPrefix(k, uruncAnnotationPrefix) {
			return true
		}
	}
	return false
}

// imageSpec is the spec of a store image: DefaultSpec with the image
// config's entrypoint and command, environment, working directory, user
// and labels, and the manifest's annotations. Command-line arguments
// replace the image's Cmd and keep its Entrypoint, as docker does; they
// are consumed from opts.
func imageSpec(img *Image, hostname string, opts *SpecOptions) (*specs.Spec, error) {
	im := img.Stored
	cfg := im.Config.Config
	spec := DefaultSpec(img.Dir, hostname)
	args := append([]string(nil), cfg.Entrypoint...)
	if len(opts.Args) > 0 {
		args = append(args, opts.Args...)
		opts.Args = nil
	} else {
		args = append(args, cfg.Cmd...)
	}
	if len(args) == 0 && img.Wasm() {
		args = imagestore.WasmModules(im)[:1]
	}
	if len(args) == 0 {
		return nil, driver.InvalidArgumentf("image %q has no command (Entrypoint or Cmd): give one after the image", img.Ref)
	}
	spec.Process.Args = args
	if len(cfg.Env) > 0 {
		env, err := mergeEnv(spec.Process.Env, cfg.Env)
		if err != nil {
			return nil, driver.InvalidArgumentf("image %q: %v", img.Ref, err)
		}
		spec.Process.Env = env
	}
	if cfg.WorkingDir != "" {
		spec.Process.Cwd = cfg.WorkingDir
	}
	if cfg.User != "" && opts.User == "" {
		u, err := ResolveUser(img.Dir, cfg.User)
		if err != nil {
			return nil, driver.InvalidArgumentf("image %q: user %q: %v", img.Ref, cfg.User, err)
		}
		spec.Process.User.UID, spec.Process.User.GID = u.UID, u.GID
	}
	spec.Annotations = map[string]string{}
	for k, v := range im.Annotations {
		spec.Annotations[k] = v
	}
	for k, v := range cfg.Labels {
		spec.Annotations[LabelAnnotationPrefix+k] = v
	}
	name := im.Name
	if name == "" {
		name = im.Digest.String()
	}
	spec.Annotations[AnnotImageName] = name
	spec.Annotations[AnnotImageDigest] = im.Digest.String()
	spec.Annotations[AnnotSnapshot] = imagestore.SnapshotKey(im)
	return spec, nil
}

// writableRoot reports whether a driver of class gets an overlay over the
// image: the drivers that run the workload on the host's filesystem
// (process, sandbox, wasm). A vm or unikernel driver gets the read-only
// image directory itself: it copies it into a block image for its guest,
// whose writes stay in the guest, and never writes into it.
func writableRoot(class driver.IsolationClass) bool {
	return class != driver.IsolationVM && class != driver.IsolationUnikernel
}

// prepareRoot gives a container of a store image or a root filesystem
// directory its root: an overlay of its own over the image (upper
// directory in the record directory, removed with it), or the read-only
// image directory for vm and unikernel drivers. Bundles and hello keep
// their root.
func (c *Core) prepareRoot(ctx context.Context, img *Image, spec *specs.Spec, dir string, choice *Choice) error {
	if img.Kind != KindImage && img.Kind != KindRootfs {
		return nil
	}
	class := choice.Class
	if class == "" {
		info, err := c.driverFor(choice.Binary).Info(ctx)
		if err != nil {
			return err
		}
		class = info.Isolation.Class
	}
	if !writableRoot(class) {
		return nil
	}
	if !overlaySupported {
		if img.Kind == KindImage {
			return driver.NotImplementedf("image %q: a copy-on-write root needs overlayfs (Linux only)", img.Ref)
		}
		return nil // a root filesystem directory is used as it is
	}
	merged, err := mountOverlay(img.Dir, dir)
	if err != nil {
		return err
	}
	spec.Root.Path = merged
	return nil
}
