package vm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/vm/wire"
	"github.com/rtd-project/rtd/internal/vmm"
	"github.com/rtd-project/rtd/kit/ocispec"
)

func isBind(m specs.Mount) bool {
	return m.Type == "bind" || slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind")
}

// checkSpec refuses, as InvalidArgument, what cannot work in a guest.
func checkSpec(id, bundle string, spec *specs.Spec) error {
	if spec.Process == nil || len(spec.Process.Args) == 0 {
		return driver.InvalidArgumentf("create %s: bundle %s: config.json has no process args", id, bundle)
	}
	rootfs := ocispec.RootfsPath(bundle, spec)
	if fi, err := os.Stat(rootfs); err != nil || !fi.IsDir() {
		return driver.InvalidArgumentf("create %s: rootfs %s: not a directory", id, rootfs)
	}
	if msg := ocispec.CheckRootfs(rootfs); msg != "" {
		return driver.InvalidArgumentf("create %s: %s", id, msg)
	}
	if spec.Linux != nil {
		for _, ns := range spec.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace && ns.Path != "" {
				// Its interfaces are handed to the guest (net_linux.go).
				if err := checkNetns(id, ns.Path); err != nil {
					return err
				}
				continue
			}
			if ns.Path != "" {
				return driver.InvalidArgumentf("create %s: joining the host's %s namespace (%s) is impossible from a VM", id, ns.Type, ns.Path)
			}
		}
	}
	for _, m := range spec.Mounts {
		if isBind(m) {
			src := m.Source
			if !filepath.IsAbs(src) {
				src = filepath.Join(bundle, src)
			}
			if _, err := os.Stat(src); err != nil {
				return driver.InvalidArgumentf("create %s: bind mount source %s: %v", id, m.Source, err)
			}
		}
	}
	return nil
}

// guestSpec is the spec as the guest's linux driver sees it: the root is
// root, the overlay over the rootfs image, a network namespace given by path
// is the guest's own (its interfaces are the guest's), a read-write bind of a directory comes
// from a virtiofs share (live: writes reach the host), every other bind
// (read-only, or a file) from the binds image (a copy taken now; source i
// at bindSource(i)), and what
// only makes sense on the host (hooks) is dropped. It returns the host
// sources of the binds image and of the shares, in order.
func guestSpec(bundle string, spec *specs.Spec, root string, bindSource func(int) string) (*specs.Spec, []string, []string) {
	g := *spec
	g.Root = &specs.Root{Path: root, Readonly: spec.Root != nil && spec.Root.Readonly}
	g.Hooks = nil
	if spec.Linux != nil {
		l := *spec.Linux
		l.Namespaces = guestNamespaces(l.Namespaces)
		g.Linux = &l
	}
	g.Mounts = slices.Clone(spec.Mounts)
	var sources, shares []string
	for i, m := range g.Mounts {
		if !isBind(m) {
			continue
		}
		src := m.Source
		if !filepath.IsAbs(src) {
			src = filepath.Join(bundle, src)
		}
		if real, err := filepath.EvalSymlinks(src); err == nil {
			src = real
		}
		if fi, err := os.Stat(src); err == nil && fi.IsDir() && !slices.Contains(m.Options, "ro") {
			g.Mounts[i].Source = wire.ShareSource(len(shares))
			shares = append(shares, src)
			continue
		}
		g.Mounts[i].Source = bindSource(len(sources))
		sources = append(sources, src)
	}
	return &g, sources, shares
}

// buildBindsImage copies the bind sources into a staging dir (source i at
// i, a file or a tree) and builds an image of it. The copy is a snapshot:
// later changes on the host do not reach the guest.
func buildBindsImage(ctx context.Context, mkfs, img, staging string, sources []string) error {
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	for i, src := range sources {
		dst := filepath.Join(staging, fmt.Sprint(i))
		out, err := exec.CommandContext(ctx, "cp", "-a", "--reflink=auto", src, dst).CombinedOutput()
		if err != nil {
			return fmt.Errorf("copy bind source %s: %v: %s", src, err, strings.TrimSpace(string(out)))
		}
	}
	return vmm.MkfsErofs(ctx, mkfs, img, staging)
}
