package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"archive/tar"
	"github.com/containerd/containerd/v2/pkg/archive"
	cfs "github.com/containerd/continuity/fs"
	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// CopyEnd is one side of a copy: a path on the host (Root "") or a path
// inside a container's root filesystem directory (Root, the directory on
// the host).
type CopyEnd struct {
	Root string
	Path string
}

// ContainerRoot returns the host directory of rec's root filesystem, for
// cp. Only drivers whose workload sees that directory itself (process,
// sandbox, wasm) qualify: the vm and unikernel drivers give their guest a
// copy (an image), so a copy there would not be seen.
func (c *Core) ContainerRoot(ctx context.Context, rec *Record) (string, error) {
	d, err := c.DriverOf(rec)
	if err != nil {
		return "", err
	}
	info, err := d.Info(ctx)
	if err != nil {
		return "", err
	}
	switch info.Isolation.Class {
	case driver.IsolationVM, driver.IsolationUnikernel:
		return "", driver.NotImplementedf("cp %s: the %s driver gives its guest a copy of the root filesystem; cp cannot reach the guest's files", rec.ID, rec.Driver)
	}
	spec, err := ocispec.Load(rec.Bundle)
	if err != nil {
		return "", fmt.Errorf("cp %s: %w", rec.ID, err)
	}
	return ocispec.RootfsPath(rec.Bundle, spec), nil
}

// resolve returns the host path of e's parent directory, resolved inside
// Root (symlinks are followed as the container would, never out of it),
// and e's last component, not followed (a symlink is copied as a link).
func (e CopyEnd) resolve() (dir, base string, err error) {
	clean := path.Clean("/" + e.Path)
	if e.Root == "" {
		clean = filepath.Clean(e.Path)
	}
	dir, base = filepath.Split(clean)
	if e.Root == "" {
		if dir == "" {
			dir = "."
		}
	} else if dir, err = securejoin.SecureJoin(e.Root, dir); err != nil {
		return "", "", err
	}
	if base == "" { // the root itself: its parent and its own name
		dir, base = filepath.Split(filepath.Clean(dir))
	}
	return dir, base, nil
}

// resolveFull resolves all of e inside Root, the last component included.
func (e CopyEnd) resolveFull() (string, error) {
	if e.Root == "" {
		return e.Path, nil
	}
	return securejoin.SecureJoin(e.Root, e.Path)
}

// CopyOptions are docker cp's flags.
type CopyOptions struct {
	// Archive keeps the source's owners (uid:gid) in the copy (-a); without
	// it the copy belongs to the user rtd runs as.
	Archive bool
	// FollowLink copies what the source's last component links to, under
	// the source's name (-L); without it a symlink is copied as a link.
	FollowLink bool
}

// Copy copies src to dst as docker cp does, with no options.
func Copy(ctx context.Context, src, dst CopyEnd) error {
	return CopyWith(ctx, src, dst, CopyOptions{})
}

// CopyWith copies src to dst as docker cp does: a file or a directory tree
// (symlinks as links); into dst when dst is an existing directory, else as
// dst. Both sides are archived and unpacked with containerd's
// pkg/archive: every entry is written through a path resolved inside the
// destination directory, so a symlink in the container cannot send the
// copy out of it.
func CopyWith(ctx context.Context, src, dst CopyEnd, opts CopyOptions) error {
	sdir, sbase, sname, sfi, err := src.source(opts)
	if err != nil {
		return err
	}
	// Where to unpack, and under which name.
	root, name := "", ""
	dfull, err := dst.resolveFull()
	if err != nil {
		return driver.InvalidArgumentf("cp: destination %s: %v", dst.Path, err)
	}
	dfi, derr := os.Stat(dfull)
	switch {
	case derr == nil && dfi.IsDir():
		root, name = dfull, sname
	case derr == nil && sfi.IsDir():
		return driver.InvalidArgumentf("cp: cannot copy a directory to a file: %s", dst.Path)
	case derr != nil && !errors.Is(derr, fs.ErrNotExist):
		return fmt.Errorf("cp: %w", derr)
	case derr != nil && strings.HasSuffix(dst.Path, "/"):
		return driver.NotFoundf("cp: no such directory: %s", dst.Path)
	default:
		ddir, dbase, err := dst.resolve()
		if err != nil {
			return driver.InvalidArgumentf("cp: destination %s: %v", dst.Path, err)
		}
		if fi, err := os.Stat(ddir); err != nil || !fi.IsDir() {
			return driver.NotFoundf("cp: no such directory: %s", path.Dir(dst.Path))
		}
		root, name = ddir, dbase
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeTree(ctx, pw, sdir, sbase)) }()
	err = applyTar(ctx, root, pr, opts, func(h *tar.Header) { renameEntry(h, sbase, name) })
	pr.CloseWithError(err)
	if err != nil {
		return fmt.Errorf("cp %s to %s: %w", src.Path, dst.Path, err)
	}
	return nil
}

// source resolves the source of a copy: the directory and name of what is
// archived, the name it is archived under (the source's own, also with
// FollowLink) and its file info.
func (e CopyEnd) source(opts CopyOptions) (dir, base, name string, fi os.FileInfo, err error) {
	dir, base, err = e.resolve()
	if err != nil {
		return "", "", "", nil, driver.InvalidArgumentf("cp: source %s: %v", e.Path, err)
	}
	name = base
	full := filepath.Join(dir, base)
	if fi, err = os.Lstat(full); err == nil && opts.FollowLink && fi.Mode()&fs.ModeSymlink != 0 {
		if e.Root == "" {
			full, err = filepath.EvalSymlinks(full)
		} else {
			full, err = e.resolveFull()
		}
		if err == nil {
			dir, base = filepath.Split(full)
			fi, err = os.Lstat(full)
		}
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", "", "", nil, driver.NotFoundf("cp: no such file or directory: %s", e.Path)
		}
		return "", "", "", nil, fmt.Errorf("cp: %w", err)
	}
	return dir, base, name, fi, nil
}

// applyTar unpacks the tar stream r into the directory root with
// containerd's archive.Apply, each entry renamed by rename (when not nil);
// whiteout files are kept as files: a copy is not an image layer.
func applyTar(ctx context.Context, root string, r io.Reader, opts CopyOptions, rename func(*tar.Header)) error {
	keepWhiteouts := func(*tar.Header, string) (bool, error) { return true, nil }
	filter := func(h *tar.Header) (bool, error) {
		if rename != nil {
			rename(h)
		}
		return true, nil
	}
	applyOpts := []archive.ApplyOpt{archive.WithFilter(filter), archive.WithConvertWhiteout(keepWhiteouts)}
	if !opts.Archive {
		applyOpts = append(applyOpts, archive.WithNoSameOwner())
	}
	_, err := archive.Apply(ctx, root, r, applyOpts...)
	return err
}

// writeTree writes dir/base (a file or a tree, symlinks not followed) as
// a tar stream through containerd's archive.ChangeWriter.
func writeTree(ctx context.Context, w io.Writer, dir, base string) error {
	cw := archive.NewChangeWriter(w, dir)
	err := filepath.Walk(filepath.Join(dir, base), func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		return cw.HandleChange(cfs.ChangeKindAdd, "/"+rel, fi, nil)
	})
	if cerr := cw.Close(); err == nil {
		err = cerr
	}
	return err
}

// renameEntry renames h when its first path element is from.
func renameEntry(h *tar.Header, from, to string) {
	first, rest, _ := strings.Cut(h.Name, "/")
	if first == from {
		h.Name = to
		if rest != "" {
			h.Name += "/" + rest
		}
	}
}
