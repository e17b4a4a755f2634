package vmm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"golang.org/x/sys/unix"
)

// AnnotSnapshot is the annotation in which the core hands a driver the
// snapshot key of the image a container runs (core.AnnotSnapshot).
const AnnotSnapshot = "io.rtd.image.snapshot"

// Names in an image snapshot's directory of rtd's image store
// (internal/imagestore: <images>/snapshots/<key>/rootfs is the unpacked
// image, read-only): the EROFS image of rootfs kept next to it, and the
// flock serializing its builders.
const (
	SnapshotErofsName = "rootfs.erofs"
	snapshotErofsLock = "rootfs.erofs.lock"
)

// snapshotKeyRE is what the image store names snapshots: a chain id's hex
// digits, or "m-" and a manifest digest's.
var snapshotKeyRE = regexp.MustCompile(`^(m-)?[0-9a-f]{64}$`)

// RootfsImage returns the path of a read-only EROFS image of rootfs for a
// guest's root disk, built with the mkfs.erofs binary mkfs, and whether
// it was already built.
//
// When key is the snapshot key of an image (the io.rtd.image.snapshot
// annotation the core sets) and rootfs is that snapshot in rtd's image
// store (<images>/snapshots/<key>/rootfs), the image is cached per image:
// built once at <images>/snapshots/<key>/rootfs.erofs (in a temporary
// file renamed into place, under an flock, so concurrent creates of one
// image build it once and nobody sees half an image), then handed to
// every container of the image. It goes when the store removes the
// snapshot (rmi, image prune), which it does only once no container uses
// the image: a guest's disk never disappears under it. Each guest puts
// its own writable layer over the image in its memory, so one
// container's writes never reach another.
//
// Otherwise (a root filesystem directory, a bundle) the image is built
// for this container alone at fallback.
func RootfsImage(ctx context.Context, mkfs, rootfs, key, fallback string) (string, bool, error) {
	dir, ok := snapshotDir(rootfs, key)
	if !ok {
		if err := MkfsErofs(ctx, mkfs, fallback, rootfs); err != nil {
			return "", false, err
		}
		return fallback, false, nil
	}
	img := filepath.Join(dir, SnapshotErofsName)
	if _, err := os.Stat(img); err == nil {
		return img, true, nil
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, snapshotErofsLock))
	if err != nil {
		return "", false, fmt.Errorf("rootfs image of snapshot %s: %w", key, err)
	}
	defer unlock()
	if _, err := os.Stat(img); err == nil {
		return img, true, nil // built while we waited
	}
	// What a builder that died left (builders hold the lock).
	if old, _ := filepath.Glob(filepath.Join(dir, ".rootfs.erofs-*")); len(old) > 0 {
		for _, f := range old {
			os.Remove(f)
		}
	}
	tmp, err := os.CreateTemp(dir, ".rootfs.erofs-")
	if err != nil {
		return "", false, fmt.Errorf("rootfs image of snapshot %s: %w", key, err)
	}
	tmp.Close()
	if err := MkfsErofs(ctx, mkfs, tmp.Name(), rootfs); err != nil {
		os.Remove(tmp.Name())
		return "", false, err
	}
	if err := os.Rename(tmp.Name(), img); err != nil {
		os.Remove(tmp.Name())
		return "", false, fmt.Errorf("rootfs image of snapshot %s: %w", key, err)
	}
	return img, false, nil
}

// snapshotDir returns the directory of rootfs when it is the snapshot key
// of an image store: rootfs is <images>/snapshots/<key>/rootfs and
// <images> is an OCI image layout. A key annotation on anything else (a
// directory of the user's) caches nothing and writes nothing next to it.
func snapshotDir(rootfs, key string) (string, bool) {
	if !snapshotKeyRE.MatchString(key) || !filepath.IsAbs(rootfs) {
		return "", false
	}
	rootfs = filepath.Clean(rootfs)
	dir := filepath.Dir(rootfs)
	snaps := filepath.Dir(dir)
	if filepath.Base(rootfs) != "rootfs" || filepath.Base(dir) != key || filepath.Base(snaps) != "snapshots" {
		return "", false
	}
	if fi, err := os.Stat(filepath.Join(filepath.Dir(snaps), "oci-layout")); err != nil || !fi.Mode().IsRegular() {
		return "", false
	}
	if fi, err := os.Lstat(rootfs); err != nil || !fi.IsDir() {
		return "", false
	}
	return dir, true
}

// lockFile takes an flock on path, waiting until ctx is done.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
