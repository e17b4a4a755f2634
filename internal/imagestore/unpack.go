package imagestore

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/containerd/containerd/v2/pkg/archive"
	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// WebAssembly layer media types: the layer is a module, not a tar.
const (
	MediaTypeWasm        types.MediaType = "application/wasm"
	MediaTypeWasmContent types.MediaType = "application/vnd.wasm.content.layer.v1+wasm"
)

// IsWasmLayer reports whether a layer is a WebAssembly module.
func IsWasmLayer(mt types.MediaType) bool { return mt == MediaTypeWasm || mt == MediaTypeWasmContent }

// IsWasmImage reports whether im runs on the wasm driver: its platform is
// WebAssembly's or a layer is a module.
func IsWasmImage(im *Image) bool {
	if im.Config != nil && IsWasm(Platform{OS: im.Config.OS, Architecture: im.Config.Architecture}) {
		return true
	}
	for _, l := range im.Manifest.Layers {
		if IsWasmLayer(l.MediaType) {
			return true
		}
	}
	return false
}

// WasmModules lists the paths (in the root filesystem) of im's module
// layers, in order.
func WasmModules(im *Image) []string {
	var out []string
	for _, l := range im.Manifest.Layers {
		if IsWasmLayer(l.MediaType) {
			out = append(out, "/"+wasmFileName(l))
		}
	}
	return out
}

// wasmFileName is where a module layer lands in the root filesystem: its
// org.opencontainers.image.title (base name only), else <digest>.wasm.
func wasmFileName(d v1.Descriptor) string {
	if t := path.Base(d.Annotations["org.opencontainers.image.title"]); t != "" && t != "." && t != "/" && t != ".." {
		return t
	}
	return d.Digest.Hex[:12] + ".wasm"
}

func (s *Store) snapshotsDir() string { return filepath.Join(s.root, "snapshots") }

// snapshotKey names im's unpacked root filesystem: the chain id of its
// layers' diff ids (so images sharing all layers share it), or its
// manifest digest when the config does not list them (wasm artifacts).
func snapshotKey(im *Image) string {
	diffs := im.Config.RootFS.DiffIDs
	if len(diffs) != len(im.Manifest.Layers) || len(diffs) == 0 {
		return "m-" + im.Digest.Hex
	}
	chain := diffs[0].String()
	for _, d := range diffs[1:] {
		sum := sha256.Sum256([]byte(chain + " " + d.String()))
		chain = "sha256:" + hex.EncodeToString(sum[:])
	}
	return strings.TrimPrefix(chain, "sha256:")
}

// SnapshotKey is the key of im's snapshot (see InUse).
func SnapshotKey(im *Image) string { return snapshotKey(im) }

// Unpack returns the directory of im's root filesystem, unpacking its
// layers in order the first time (whiteouts and opaque directories
// applied as docker does; module layers written as files). The directory
// is shared by every container of the image: never write into it (the
// core mounts an overlay on top). A failed unpack leaves nothing.
func (s *Store) Unpack(ctx context.Context, im *Image) (_ string, retErr error) {
	key := snapshotKey(im)
	dir := filepath.Join(s.snapshotsDir(), key)
	rootfs := filepath.Join(dir, "rootfs")
	if _, err := os.Stat(rootfs); err == nil {
		return rootfs, nil
	}
	unlock, err := s.lockFile(ctx, "snapshots.lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(rootfs); err == nil {
		return rootfs, nil
	}
	op := "unpack image " + im.Digest.String()
	if err := os.MkdirAll(s.snapshotsDir(), 0o700); err != nil {
		return "", classify(op, err)
	}
	tmp, err := os.MkdirTemp(s.snapshotsDir(), ".unpack-")
	if err != nil {
		return "", classify(op, err)
	}
	defer func() {
		if retErr != nil {
			os.RemoveAll(tmp)
		}
	}()
	tmpRoot := filepath.Join(tmp, "rootfs")
	if err := os.Mkdir(tmpRoot, 0o755); err != nil {
		return "", classify(op, err)
	}
	img, err := s.path.Image(im.Digest)
	if err != nil {
		return "", classify(op, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return "", classify(op, err)
	}
	for i, l := range layers {
		d := im.Manifest.Layers[i]
		if err := applyLayer(ctx, tmpRoot, d, l); err != nil {
			return "", fmt.Errorf("%s: layer %d (%s): %w", op, i+1, d.Digest, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", classify(op, err)
	}
	return rootfs, nil
}

// applyLayer applies one layer to root.
func applyLayer(ctx context.Context, root string, d v1.Descriptor, l v1.Layer) error {
	if IsWasmLayer(d.MediaType) {
		rc, err := l.Compressed()
		if err != nil {
			return classify("open", err)
		}
		defer rc.Close()
		f, err := os.OpenFile(filepath.Join(root, wasmFileName(d)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
		if err != nil {
			return classify("write module", err)
		}
		defer f.Close()
		if _, err := io.Copy(f, rc); err != nil {
			return classify("write module", err)
		}
		return classify("write module", f.Close())
	}
	if !isTarLayer(d.MediaType) {
		return classed(errdefs.ErrNotImplemented, "layer media type %q is not supported (want a tar layer or a wasm module)", d.MediaType)
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return classify("open", err)
	}
	defer rc.Close()
	if _, err := archive.Apply(ctx, root, rc, archive.WithFilter(refuseTraversal)); err != nil {
		var ce classError
		switch {
		case errors.As(err, &ce), ctx.Err() != nil:
			return err
		case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
			return classify("apply", err)
		}
		return classed(errdefs.ErrInvalidArgument, "corrupt layer: %v", err)
	}
	return nil
}

// isTarLayer reports whether mt is a tar layer (any compression).
func isTarLayer(mt types.MediaType) bool {
	s := string(mt)
	return s == "" || strings.Contains(s, ".tar") || strings.Contains(s, "rootfs") || strings.HasSuffix(s, ".layer.v1")
}

// classError marks the refusal of a tar entry.
type classError struct{ error }

func (e classError) Unwrap() error { return e.error }

// refuseTraversal refuses an entry whose name or hard link target leaves
// the root (containerd's Apply would clamp it inside; rtd refuses the
// layer instead, as a hostile image is not worth running).
func refuseTraversal(h *tar.Header) (bool, error) {
	bad := func(p string) bool {
		p = path.Clean(filepath.ToSlash(p))
		return p == ".." || strings.HasPrefix(p, "../")
	}
	if bad(h.Name) || (h.Typeflag == tar.TypeLink && bad(h.Linkname)) {
		return false, classError{classed(errdefs.ErrInvalidArgument, "tar entry %q (link %q) leaves the root filesystem; refused", h.Name, h.Linkname)}
	}
	return true, nil
}
