package core

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/containerd/containerd/v2/pkg/archive/compression"

	"github.com/rtd-project/rtd/driver"
)

// CopyToStream writes src as a tar stream to w, as docker cp SRC - does:
// one entry named after src's last component (a file, a link, or a tree).
// With FollowLink a symlink's target is archived under the link's name.
func CopyToStream(ctx context.Context, src CopyEnd, w io.Writer, opts CopyOptions) error {
	sdir, sbase, sname, _, err := src.source(opts)
	if err != nil {
		return err
	}
	if sname == sbase {
		return writeTree(ctx, w, sdir, sbase)
	}
	// -L of a link: the target's entries under the link's name.
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeTree(ctx, pw, sdir, sbase)) }()
	err = retar(pr, w, func(h *tar.Header) { renameEntry(h, sbase, sname) })
	pr.CloseWithError(err)
	return err
}

// CopyFromStream unpacks the tar stream r (plain, gzip, bzip2, xz or zstd)
// into the directory dst, as docker cp - DEST does: dst must exist and be
// a directory. Entries are unpacked with containerd's archive.Apply, each
// through a path resolved inside dst.
func CopyFromStream(ctx context.Context, r io.Reader, dst CopyEnd, opts CopyOptions) error {
	dfull, err := dst.resolveFull()
	if err != nil {
		return driver.InvalidArgumentf("cp: destination %s: %v", dst.Path, err)
	}
	fi, err := os.Stat(dfull)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return driver.NotFoundf("cp: no such directory: %s", dst.Path)
	case err != nil:
		return fmt.Errorf("cp: %w", err)
	case !fi.IsDir():
		return driver.InvalidArgumentf("cp: destination %s must be a directory to extract a tar stream into", dst.Path)
	}
	dr, err := compression.DecompressStream(r)
	if err != nil {
		return driver.InvalidArgumentf("cp: the stream on stdin is not a tar archive: %v", err)
	}
	defer dr.Close()
	if err := applyTar(ctx, dfull, dr, opts, nil); err != nil {
		return fmt.Errorf("cp - to %s: %w", dst.Path, err)
	}
	return nil
}

// retar copies the tar stream r to w with each header passed through edit.
func retar(r io.Reader, w io.Writer, edit func(*tar.Header)) error {
	tr, tw := tar.NewReader(r), tar.NewWriter(w)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tw.Close()
		}
		if err != nil {
			return err
		}
		edit(h)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}
