package imagestore

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// PullOptions configure Pull.
type PullOptions struct {
	// Platform to pick from a multi-platform image; nil: DefaultPlatform.
	Platform *Platform
	// Progress is told about each blob; nil for none.
	Progress Progress
	// Mirrors send a registry's pulls elsewhere (MirrorsFromEnv).
	Mirrors Mirrors
	// Transport for the registry; nil: remote's default.
	Transport http.RoundTripper
	// NoRetry fails at the first transient error instead of retrying
	// (go-containerregistry retries 3 times, over ~4 s).
	NoRetry bool
}

// Pull fetches ref from its registry (HTTPS; plain HTTP for localhost and
// 127.0.0.1; credentials from the docker config) into the store and names
// it. Blobs already in the store are not fetched again; one that fails
// half-way leaves nothing and is fetched whole by the next pull.
func (s *Store) Pull(ctx context.Context, ref string, opts PullOptions) (*Image, error) {
	r, err := parse(ref)
	if err != nil {
		return nil, err
	}
	want := DefaultPlatform()
	if opts.Platform != nil {
		want = *opts.Platform
	}
	fetch, err := opts.Mirrors.rewrite(r)
	if err != nil {
		return nil, err
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithPlatform(want)}
	if opts.Transport != nil {
		ropts = append(ropts, remote.WithTransport(opts.Transport))
	}
	if opts.NoRetry {
		ropts = append(ropts, remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
	}
	desc, err := remote.Get(fetch, ropts...)
	if err != nil {
		return nil, classify("pull "+ref, err)
	}
	var img v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, classify("pull "+ref, err)
		}
		img, err = pickFromIndex(ref, idx, want)
		if err != nil {
			return nil, err
		}
	} else if img, err = desc.Image(); err != nil {
		return nil, classify("pull "+ref, err)
	}
	if err := checkPlatform(ref, img, want); err != nil {
		return nil, err
	}
	return s.add(ctx, "pull "+ref, canonical(r), img, opts.Progress)
}

// pickFromIndex picks want's image from a multi-platform index; a
// WebAssembly image when the index has no native one.
func pickFromIndex(ref string, idx v1.ImageIndex, want Platform) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, classify("read index of "+ref, err)
	}
	var have []string
	var native, wasm *v1.Descriptor
	for i, d := range m.Manifests {
		if !d.MediaType.IsImage() {
			continue
		}
		if d.Platform == nil {
			if len(m.Manifests) == 1 {
				native = &m.Manifests[i]
			}
			continue
		}
		if d.Platform.OS == "unknown" { // attestations
			continue
		}
		have = append(have, platformString(*d.Platform))
		switch {
		case IsWasm(*d.Platform) && wasm == nil:
			wasm = &m.Manifests[i]
		case !IsWasm(*d.Platform) && fits(*d.Platform, want) && native == nil:
			native = &m.Manifests[i]
		}
	}
	if native == nil {
		native = wasm
	}
	if native == nil {
		if len(have) == 0 {
			return nil, classed(errdefs.ErrNotFound, "image %q: its index lists no image", ref)
		}
		return nil, wrongPlatform(ref, have, want)
	}
	img, err := idx.Image(native.Digest)
	if err != nil {
		return nil, classify("read image "+native.Digest.String()+" of "+ref, err)
	}
	return img, nil
}

// checkPlatform refuses an image built for another platform.
func checkPlatform(ref string, img v1.Image, want Platform) error {
	cf, err := configFile(img)
	if err != nil {
		return classify("read config of "+ref, err)
	}
	if cf.OS == "" && cf.Architecture == "" {
		return nil // an artifact's config (wasm) says nothing: let it run
	}
	got := Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	if !fits(got, want) {
		return wrongPlatform(ref, []string{platformString(got)}, want)
	}
	return nil
}

// add writes img's blobs into the store (layers not yet there, config,
// manifest), each verified, then names it. It holds the store's lock, so
// concurrent pulls of one image fetch each blob once.
func (s *Store) add(ctx context.Context, op, name string, img v1.Image, p Progress) (*Image, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if p == nil {
		p = nopProgress{}
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, classify(op, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, classify(op, err)
	}
	if len(layers) != len(m.Layers) {
		return nil, classed(errdefs.ErrInvalidArgument, "%s: the manifest lists %d layers, the image has %d", op, len(m.Layers), len(layers))
	}
	for i, l := range layers {
		d := m.Layers[i]
		id := d.Digest.Hex[:12]
		if s.hasBlob(d.Digest, d.Size) {
			p.Done(id, d.Size, "already here")
			continue
		}
		p.Start(id, d.Size)
		rc, err := l.Compressed()
		if err != nil {
			err = classify(op+": layer "+d.Digest.String(), err)
			p.Done(id, 0, "failed")
			return nil, err
		}
		err = s.writeBlob(ctx, d.Digest, d.Size, rc, func(n int64) { p.Update(id, n) })
		rc.Close()
		if err != nil {
			p.Done(id, 0, "failed")
			return nil, fmt.Errorf("%s: layer %s: %w", op, d.Digest, err)
		}
		p.Done(id, d.Size, "done")
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return nil, classify(op, err)
	}
	if err := s.writeBlob(ctx, m.Config.Digest, m.Config.Size, bytes.NewReader(rawConfig), nil); err != nil {
		return nil, fmt.Errorf("%s: config: %w", op, err)
	}
	rawManifest, err := img.RawManifest()
	if err != nil {
		return nil, classify(op, err)
	}
	mt, err := img.MediaType()
	if err != nil {
		return nil, classify(op, err)
	}
	dig, err := s.writeBlobBytes(ctx, rawManifest)
	if err != nil {
		return nil, fmt.Errorf("%s: manifest: %w", op, err)
	}
	desc := v1.Descriptor{MediaType: mt, Size: int64(len(rawManifest)), Digest: dig}
	if err := s.setName(&desc, name); err != nil {
		return nil, err
	}
	return s.image(desc)
}
