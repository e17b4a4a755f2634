package imagestore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// blobPath is where the blob of digest h lives.
func (s *Store) blobPath(h v1.Hash) string {
	return filepath.Join(s.root, "blobs", h.Algorithm, h.Hex)
}

// hasBlob reports whether the blob h of size bytes is in the store. A blob
// is renamed into place only once verified, so being there is enough.
func (s *Store) hasBlob(h v1.Hash, size int64) bool {
	fi, err := os.Stat(s.blobPath(h))
	return err == nil && fi.Mode().IsRegular() && (size < 0 || fi.Size() == size)
}

// writeBlob copies r into the store as blob h, checking its size and its
// digest on the way, and renames it into place only when both match: a
// failed, cut or corrupt transfer leaves no file behind. n, when not nil,
// is told how many bytes have been written so far.
func (s *Store) writeBlob(ctx context.Context, h v1.Hash, size int64, r io.Reader, n func(int64)) (retErr error) {
	if h.Algorithm != "sha256" {
		return classed(errdefs.ErrInvalidArgument, "blob %s: unsupported digest algorithm %q", h, h.Algorithm)
	}
	if s.hasBlob(h, size) {
		return nil
	}
	dir := filepath.Dir(s.blobPath(h))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return classify("write blob "+h.String(), err)
	}
	f, err := os.CreateTemp(dir, ".tmp-"+h.Hex[:12]+"-")
	if err != nil {
		return classify("write blob "+h.String(), err)
	}
	defer func() {
		f.Close()
		if retErr != nil {
			os.Remove(f.Name())
		}
	}()
	sum := sha256.New()
	w := io.MultiWriter(f, sum)
	var written int64
	buf := make([]byte, 256*1024)
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("write blob %s: %w", h, err)
		}
		k, rerr := r.Read(buf)
		if k > 0 {
			if _, err := w.Write(buf[:k]); err != nil {
				return classify("write blob "+h.String(), err)
			}
			written += int64(k)
			if n != nil {
				n(written)
			}
			if size >= 0 && written > size {
				return classed(errdefs.ErrDataLoss, "blob %s: more than the %d bytes its descriptor declares; refused", h, size)
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return classify("read blob "+h.String(), rerr)
		}
	}
	if size >= 0 && written != size {
		return classify("read blob "+h.String(), fmt.Errorf("got %d of %d bytes: %w", written, size, io.ErrUnexpectedEOF))
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != h.Hex {
		return classed(errdefs.ErrDataLoss, "blob %s: content has digest sha256:%s; refused (corrupt or tampered layer)", h, got)
	}
	if err := f.Sync(); err != nil {
		return classify("write blob "+h.String(), err)
	}
	if err := f.Close(); err != nil {
		return classify("write blob "+h.String(), err)
	}
	if err := os.Rename(f.Name(), s.blobPath(h)); err != nil {
		return classify("write blob "+h.String(), err)
	}
	return nil
}

// writeBlobBytes stores data as a blob and returns its digest.
func (s *Store) writeBlobBytes(ctx context.Context, data []byte) (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(data))
	if err != nil {
		return v1.Hash{}, err
	}
	return h, s.writeBlob(ctx, h, int64(len(data)), bytes.NewReader(data), nil)
}
