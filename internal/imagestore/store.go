package imagestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rtd-project/rtd/kit/atomicfile"
)

// RefNameAnnotation names an image in the store's index.json, as in an OCI
// image layout; its value is the canonical name (Normalize).
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// Store is an image store under one directory:
//
//	<root>/oci-layout, index.json  the OCI image layout: names → manifests
//	<root>/blobs/sha256/<hex>      manifests, configs, layers (verified)
//	<root>/snapshots/<key>/rootfs  each image unpacked once (Unpack)
//	<root>/snapshots/<key>/rootfs.erofs  its EROFS image, built by the vm
//	                               and unikernel drivers (internal/vmm); goes with the snapshot
//	<root>/lock                    flock serializing writers
type Store struct {
	root string
	path layout.Path
}

// Image is an image of the store.
type Image struct {
	// Name is the canonical name (docker.io/library/busybox:latest), ""
	// for an image kept without one (imported from a layout directory).
	Name   string
	Digest v1.Hash
	// Platform is os/arch[/variant] from the image's config.
	Platform string
	Manifest *v1.Manifest
	Config   *v1.ConfigFile
	// Annotations are the manifest's annotations.
	Annotations map[string]string
	// Size is the sum of the manifest's, config's and layers' blob sizes.
	Size    int64
	Created time.Time
}

// ID is the short id shown by rtd images: the first 12 hex digits of the
// manifest digest.
func (im *Image) ID() string { return im.Digest.Hex[:12] }

// Open opens (creating it if needed) the store at root.
func Open(root string) (*Store, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open image store %s: %w", root, err)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, classify("open image store "+root, err)
	}
	p, err := layout.FromPath(root)
	if err != nil {
		if p, err = layout.Write(root, empty.Index); err != nil {
			return nil, classify("open image store "+root, err)
		}
	}
	return &Store{root: root, path: p}, nil
}

// Root is the store's directory.
func (s *Store) Root() string { return s.root }

// List returns the images of the store, newest first.
func (s *Store) List() ([]*Image, error) {
	descs, err := s.descriptors()
	if err != nil {
		return nil, err
	}
	var out []*Image
	for _, d := range descs {
		im, err := s.image(d)
		if err != nil {
			return nil, err
		}
		out = append(out, im)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func (s *Store) descriptors() ([]v1.Descriptor, error) {
	idx, err := s.path.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("read image store %s: %w", s.root, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read image store %s: %w", s.root, err)
	}
	return m.Manifests, nil
}

// image reads the manifest and config a descriptor names.
func (s *Store) image(d v1.Descriptor) (*Image, error) {
	img, err := s.path.Image(d.Digest)
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", d.Digest, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", d.Digest, err)
	}
	cf, err := configFile(img)
	if err != nil {
		return nil, err
	}
	size := d.Size + m.Config.Size
	for _, l := range m.Layers {
		size += l.Size
	}
	return &Image{
		Name: d.Annotations[RefNameAnnotation], Digest: d.Digest, Platform: platformOf(cf),
		Manifest: m, Config: cf, Annotations: m.Annotations, Size: size, Created: cf.Created.Time,
	}, nil
}

// configFile parses an image's config. A wasm artifact's config of
// another media type parses as an empty image config.
func configFile(img v1.Image) (*v1.ConfigFile, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		m, merr := img.Manifest()
		if merr == nil && !isImageConfig(m.Config.MediaType) {
			return &v1.ConfigFile{}, nil
		}
		return nil, fmt.Errorf("read image config: %w", err)
	}
	return cf, nil
}

func isImageConfig(mt types.MediaType) bool {
	return mt == types.OCIConfigJSON || mt == types.DockerConfigJSON || mt == ""
}

func platformOf(cf *v1.ConfigFile) string {
	p := cf.OS + "/" + cf.Architecture
	if cf.Variant != "" {
		p += "/" + cf.Variant
	}
	return p
}

// Lookup finds an image by name (busybox, busybox:1.36,
// 127.0.0.1:5000/app@sha256:...), by manifest digest (sha256:...) or by a
// prefix of at least 4 hex digits of it, as rtd images shows it.
// NotFound says how to get it.
func (s *Store) Lookup(ref string) (*Image, error) {
	descs, err := s.descriptors()
	if err != nil {
		return nil, err
	}
	want := func(d v1.Descriptor) bool { return false }
	if name, err := Normalize(ref); err == nil {
		want = func(d v1.Descriptor) bool { return d.Annotations[RefNameAnnotation] == name }
		if i := strings.LastIndex(name, "@"); i >= 0 {
			dig := name[i+1:]
			want = func(d v1.Descriptor) bool {
				return d.Annotations[RefNameAnnotation] == name || d.Digest.String() == dig
			}
		}
	}
	hexRef := strings.TrimPrefix(ref, "sha256:")
	isHex := len(hexRef) >= 4 && len(hexRef) <= 64 && strings.Trim(hexRef, "0123456789abcdef") == ""
	var found []v1.Descriptor
	for _, d := range descs {
		if want(d) || (isHex && strings.HasPrefix(d.Digest.Hex, hexRef)) {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		return nil, classed(errdefs.ErrNotFound, "image %q: no such image here (rtd pull %s, or rtd load -i FILE)", ref, ref)
	}
	for _, d := range found[1:] {
		if d.Digest != found[0].Digest {
			return nil, classed(errdefs.ErrInvalidArgument, "image %q: ambiguous: matches %s and %s; give more of the digest", ref, found[0].Digest, d.Digest)
		}
	}
	return s.image(found[0])
}

// setName points name at the manifest desc describes ("" keeps it
// without a name, once per digest). Callers hold the lock.
func (s *Store) setName(desc *v1.Descriptor, name string) error {
	desc.Annotations = map[string]string{}
	same := func(d v1.Descriptor) bool { return d.Annotations[RefNameAnnotation] == "" && d.Digest == desc.Digest }
	if name != "" {
		desc.Annotations[RefNameAnnotation] = name
		same = func(d v1.Descriptor) bool { return d.Annotations[RefNameAnnotation] == name }
	}
	return s.updateIndex("name image "+name, func(descs []v1.Descriptor) []v1.Descriptor {
		return append(removeMatching(descs, same), *desc)
	})
}

func removeMatching(descs []v1.Descriptor, m func(v1.Descriptor) bool) []v1.Descriptor {
	var out []v1.Descriptor
	for _, d := range descs {
		if !m(d) {
			out = append(out, d)
		}
	}
	return out
}

// updateIndex rewrites index.json with f's answer, atomically (readers
// never see a torn file). Callers hold the lock.
func (s *Store) updateIndex(op string, f func([]v1.Descriptor) []v1.Descriptor) error {
	descs, err := s.descriptors()
	if err != nil {
		return err
	}
	m := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: f(descs)}
	if m.Manifests == nil {
		m.Manifests = []v1.Descriptor{}
	}
	if err := atomicfile.WriteJSON(filepath.Join(s.root, "index.json"), m, 0o600); err != nil {
		return classify(op, err)
	}
	return nil
}

// InUse tells Remove and Prune whether a container still uses key: an
// image's manifest digest (sha256:...) or a snapshot key (Unpack).
type InUse func(key string) bool

// Remove removes the name ref (or, given a digest or id, every name of
// that image), then the blobs and snapshots no image needs any more. An
// image a container uses is refused (FailedPrecondition) unless force.
func (s *Store) Remove(ctx context.Context, ref string, force bool, inUse InUse) ([]string, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	im, err := s.Lookup(ref)
	if err != nil {
		return nil, err
	}
	if !force && inUse != nil && inUse(im.Digest.String()) {
		return nil, classed(errdefs.ErrFailedPrecondition, "remove image %q: a container uses it; remove the container first (rtd rm) or use rmi -f", ref)
	}
	name, nerr := Normalize(ref)
	byName := nerr == nil && im.Name == name
	m := func(d v1.Descriptor) bool {
		if byName {
			return d.Annotations[RefNameAnnotation] == name
		}
		return d.Digest == im.Digest
	}
	var removed []string
	descs, err := s.descriptors()
	if err != nil {
		return nil, err
	}
	for _, d := range descs {
		if m(d) {
			removed = append(removed, displayName(d))
		}
	}
	if err := s.updateIndex("remove image "+ref, func(ds []v1.Descriptor) []v1.Descriptor { return removeMatching(ds, m) }); err != nil {
		return nil, err
	}
	return removed, s.gc(inUse)
}

func displayName(d v1.Descriptor) string {
	if n := d.Annotations[RefNameAnnotation]; n != "" {
		return n
	}
	return d.Digest.String()
}

// Prune removes the images kept without a name (all images with all) that
// no container uses, then the blobs and snapshots nothing needs. It
// returns what it removed and the bytes it freed.
func (s *Store) Prune(ctx context.Context, all bool, inUse InUse) ([]string, int64, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer unlock()
	before := s.diskUsage()
	descs, err := s.descriptors()
	if err != nil {
		return nil, 0, err
	}
	var removed []string
	drop := map[v1.Hash]bool{}
	for _, d := range descs {
		if (all || d.Annotations[RefNameAnnotation] == "") && (inUse == nil || !inUse(d.Digest.String())) {
			drop[d.Digest] = true
			removed = append(removed, displayName(d))
		}
	}
	if err := s.updateIndex("prune images", func(ds []v1.Descriptor) []v1.Descriptor {
		return removeMatching(ds, func(d v1.Descriptor) bool { return drop[d.Digest] })
	}); err != nil {
		return nil, 0, err
	}
	if err := s.gc(inUse); err != nil {
		return removed, 0, err
	}
	return removed, before - s.diskUsage(), nil
}

// gc removes the blobs no image of the index needs, and the snapshots that
// neither an image of the index nor a container (inUse) needs. Callers
// hold the lock.
func (s *Store) gc(inUse InUse) error {
	blobs, err := s.path.GarbageCollect()
	if err != nil {
		return fmt.Errorf("garbage-collect blobs: %w", err)
	}
	for _, h := range blobs {
		if err := s.path.RemoveBlob(h); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("garbage-collect blob %s: %w", h, err)
		}
	}
	keep := map[string]bool{}
	descs, err := s.descriptors()
	if err != nil {
		return err
	}
	for _, d := range descs {
		im, err := s.image(d)
		if err != nil {
			return err
		}
		keep[snapshotKey(im)] = true
	}
	entries, _ := os.ReadDir(s.snapshotsDir())
	for _, e := range entries {
		name := e.Name()
		if keep[name] || strings.HasPrefix(name, ".") {
			continue
		}
		if inUse != nil && inUse(name) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.snapshotsDir(), name)); err != nil {
			return fmt.Errorf("garbage-collect snapshot %s: %w", name, err)
		}
	}
	return nil
}

// diskUsage is the number of bytes under the store's root.
func (s *Store) diskUsage() int64 {
	var n int64
	filepath.WalkDir(s.root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
