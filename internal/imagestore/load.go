package imagestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/v2/pkg/archive"
	"github.com/containerd/containerd/v2/pkg/archive/compression"
	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// LoadOptions configure Load and ImportLayout.
type LoadOptions struct {
	// Platform to pick from a multi-platform image; nil: DefaultPlatform.
	Platform *Platform
	Progress Progress
}

func (o LoadOptions) platform() Platform {
	if o.Platform != nil {
		return *o.Platform
	}
	return DefaultPlatform()
}

// Load adds the images of a docker-save tar (manifest.json, named by its
// RepoTags) or of an OCI archive (a tar, maybe compressed, of an OCI image
// layout, named by the io.containerd.image.name or
// org.opencontainers.image.ref.name annotation) to the store.
func (s *Store) Load(ctx context.Context, file string, opts LoadOptions) ([]*Image, error) {
	op := "load " + file
	if _, err := os.Stat(file); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, classed(errdefs.ErrNotFound, "%s: no such file", op)
		}
		return nil, classify(op, err)
	}
	opener := func() (io.ReadCloser, error) { return os.Open(file) }
	if m, err := tarball.LoadManifest(opener); err == nil && len(m) > 0 {
		return s.loadDocker(ctx, op, opener, m, opts)
	}
	return s.loadOCI(ctx, op, file, opts)
}

func (s *Store) loadDocker(ctx context.Context, op string, opener tarball.Opener, m tarball.Manifest, opts LoadOptions) ([]*Image, error) {
	var out []*Image
	for _, d := range m {
		tags := d.RepoTags
		if len(tags) == 0 {
			if len(m) != 1 {
				return nil, classed(errdefs.ErrInvalidArgument, "%s: an image without RepoTags in a tar of %d images", op, len(m))
			}
			tags = []string{""}
		}
		for _, t := range tags {
			var tag *name.Tag
			if t != "" {
				nt, err := name.NewTag(t)
				if err != nil {
					return nil, classed(errdefs.ErrInvalidArgument, "%s: tag %q: %v", op, t, err)
				}
				tag = &nt
			}
			img, err := tarball.Image(opener, tag)
			if err != nil {
				return nil, classed(errdefs.ErrInvalidArgument, "%s: %v", op, err)
			}
			if err := checkPlatform(op, img, opts.platform()); err != nil {
				return nil, err
			}
			n := ""
			if tag != nil {
				n = canonical(*tag)
			}
			im, err := s.add(ctx, op, n, img, opts.Progress)
			if err != nil {
				return nil, err
			}
			out = append(out, im)
		}
	}
	return out, nil
}

// loadOCI unpacks an OCI archive into a temporary directory of the store
// (entries leaving it are refused) and adds the layout's images.
func (s *Store) loadOCI(ctx context.Context, op, file string, opts LoadOptions) ([]*Image, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, classify(op, err)
	}
	defer f.Close()
	r, err := compression.DecompressStream(f)
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "%s: not a docker-save tar nor an OCI archive: %v", op, err)
	}
	defer r.Close()
	tmp, err := os.MkdirTemp(s.root, ".load-")
	if err != nil {
		return nil, classify(op, err)
	}
	defer os.RemoveAll(tmp)
	if _, err := archive.Apply(ctx, tmp, r, archive.WithFilter(refuseTraversal), archive.WithNoSameOwner()); err != nil {
		var ce classError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		return nil, classed(errdefs.ErrInvalidArgument, "%s: not a docker-save tar nor an OCI archive: %v", op, err)
	}
	if _, err := os.Stat(filepath.Join(tmp, "index.json")); err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "%s: not a docker-save tar (no manifest.json) nor an OCI archive (no index.json)", op)
	}
	return s.importLayout(ctx, op, tmp, true, opts)
}

// ImportLayout adds the image of an OCI image layout directory to the
// store, without a name, and returns it: the layout's only image, or the
// one for the platform when its index lists several.
func (s *Store) ImportLayout(ctx context.Context, dir string, opts LoadOptions) (*Image, error) {
	ims, err := s.importLayout(ctx, "import layout "+dir, dir, false, opts)
	if err != nil {
		return nil, err
	}
	return ims[0], nil
}

// IsLayout reports whether dir is an OCI image layout (holds oci-layout
// and index.json).
func IsLayout(dir string) bool {
	_, err1 := os.Stat(filepath.Join(dir, "oci-layout"))
	_, err2 := os.Stat(filepath.Join(dir, "index.json"))
	return err1 == nil && err2 == nil
}

// importLayout adds a layout's images: every named one (named), or the
// one to run (!named).
func (s *Store) importLayout(ctx context.Context, op, dir string, named bool, opts LoadOptions) ([]*Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "%s: not an OCI image layout: %v", op, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "%s: index.json: %v", op, err)
	}
	if len(m.Manifests) == 0 {
		return nil, classed(errdefs.ErrNotFound, "%s: the layout holds no image", op)
	}
	if !named {
		var img v1.Image
		if len(m.Manifests) == 1 {
			img, err = imageOf(op, idx, m.Manifests[0], opts.platform())
		} else {
			img, err = pickFromIndex(op, idx, opts.platform())
		}
		if err != nil {
			return nil, err
		}
		if err := checkPlatform(op, img, opts.platform()); err != nil {
			return nil, err
		}
		im, err := s.add(ctx, op, "", img, opts.Progress)
		if err != nil {
			return nil, err
		}
		return []*Image{im}, nil
	}
	var out []*Image
	for _, d := range m.Manifests {
		if d.Platform != nil && !fits(*d.Platform, opts.platform()) {
			continue
		}
		img, err := imageOf(op, idx, d, opts.platform())
		if err != nil {
			return nil, err
		}
		if err := checkPlatform(op, img, opts.platform()); err != nil {
			return nil, err
		}
		im, err := s.add(ctx, op, nameOf(d), img, opts.Progress)
		if err != nil {
			return nil, err
		}
		out = append(out, im)
	}
	if len(out) == 0 {
		return nil, classed(errdefs.ErrFailedPrecondition, "%s: no image for %s in the archive", op, platformString(opts.platform()))
	}
	return out, nil
}

// imageOf opens the image a descriptor of idx names, picking the
// platform's image when it names an index.
func imageOf(op string, idx v1.ImageIndex, d v1.Descriptor, want Platform) (v1.Image, error) {
	if d.MediaType.IsIndex() {
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, classed(errdefs.ErrInvalidArgument, "%s: %v", op, err)
		}
		return pickFromIndex(op, child, want)
	}
	img, err := idx.Image(d.Digest)
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "%s: %v", op, err)
	}
	return img, nil
}

// nameOf is the canonical name an archive's descriptor gives its image,
// "" when it gives none (or only a tag).
func nameOf(d v1.Descriptor) string {
	for _, k := range []string{"io.containerd.image.name", RefNameAnnotation} {
		v := d.Annotations[k]
		if v == "" || (!strings.ContainsAny(v, "/:@") && k == RefNameAnnotation) {
			continue
		}
		if n, err := Normalize(v); err == nil {
			return n
		}
	}
	return ""
}
