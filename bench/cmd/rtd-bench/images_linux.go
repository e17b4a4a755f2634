package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/internal/testutil"
	"github.com/rtd-project/rtd/internal/vmm"
)

// imageLayers and layerMB make the pull step's image: ~100 MB of
// incompressible data in 5 layers, plus busybox.
const (
	imageLayers = 5
	layerMB     = 20
)

// images compares pull + unpack of a ~100 MB multi-layer image from a
// registry on 127.0.0.1 (go-containerregistry's, in process): rtd pull vs
// ctr pull of containerd 2.2 (hack/containerd.sh), same registry; then rtd
// run --rm of the pulled image vs of the same root filesystem directory
// (both get an overlay) and vs a bundle (no overlay): the snapshot's cost.
func (e *env) images(res *bench.Results) error {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	big := host + "/rtdbench/big:1"
	small := host + "/rtdbench/busybox:1"
	bb, err := rootfsLayer(e.rootfs)
	if err != nil {
		return err
	}
	if err := push(small, bb); err != nil {
		return err
	}
	layers := []v1.Layer{bb}
	n := imageLayers
	if e.o.smoke {
		n = 1
	}
	for i := 0; i < n; i++ {
		l, err := noiseLayer(fmt.Sprintf("data%d", i), layerMB<<20)
		if err != nil {
			return err
		}
		layers = append(layers, l)
	}
	if err := push(big, layers...); err != nil {
		return err
	}
	// rtd run: the pulled image vs the directory vs a bundle.
	if out, err := e.rtdCmd("", "pull", "-q", small); err != nil {
		return fmt.Errorf("rtd pull: %v: %s", err, out)
	}
	run := func(img string) bench.Sample {
		return e.fresh(func(id string) bench.Sample {
			return e.rtd("run", "--rm", "--network", "none", "--name", id, img, "/bin/true")
		})
	}
	p, err := bench.AB("images: rtd run --rm of a pulled image vs of the same root filesystem directory (both on an overlay of their own)",
		"rtd run --rm IMAGE", "rtd run --rm DIR", e.o.n, run(small), run(e.rootfs))
	if err != nil {
		return err
	}
	met := p.MedianA-p.MedianB <= 5*time.Millisecond
	p.Goal, p.Met, p.Note = "<= +5ms", &met, fmt.Sprintf("difference %s", (p.MedianA-p.MedianB).Round(100*time.Microsecond))
	res.Pairs = append(res.Pairs, p)
	p, err = bench.AB("images: rtd run --rm of a pulled image (overlay) vs of a bundle of the same directory (no overlay): the snapshot's cost",
		"rtd run --rm IMAGE", "rtd run --rm BUNDLE", e.o.n, run(small), run(e.bundle))
	if err != nil {
		return err
	}
	p.Note = fmt.Sprintf("difference %s", (p.MedianA - p.MedianB).Round(100*time.Microsecond))
	res.Pairs = append(res.Pairs, p)
	if err := e.imagesVM(res, big, n); err != nil {
		var skip *skipError
		if !errors.As(err, &skip) {
			return err
		}
		res.Skipped = append(res.Skipped, "images: vm run of an image, cached vs built block image: "+skip.reason)
	}
	return e.pullVsCtr(res, big, n)
}

// imagesVM compares rtd run --rm --driver vm of the big image when its
// EROFS block image is cached with the snapshot (every container after the
// image's first) and when it is not (the cached file removed before each
// sample, so it is built per container, as before the cache).
func (e *env) imagesVM(res *bench.Results, big string, layers int) error {
	if _, err := os.Stat(filepath.Join(e.o.bin, "rtd-driver-vm")); err != nil {
		return skipf("%s/rtd-driver-vm not built", e.o.bin)
	}
	if err := e.ready("vm"); err != nil {
		return err
	}
	if out, err := e.rtdCmd("", "pull", "-q", big); err != nil {
		return fmt.Errorf("rtd pull: %v: %s", err, out)
	}
	imgs, _ := filepath.Glob(filepath.Join(e.rtdRoot, "images", "snapshots", "*"))
	run := e.rtd("run", "--rm", "--network", "none", "--driver", "vm", big, "/bin/true")
	if _, err := run(); err != nil { // unpacks the snapshot, builds the block image
		return err
	}
	cached, _ := filepath.Glob(filepath.Join(e.rtdRoot, "images", "snapshots", "*", vmm.SnapshotErofsName))
	if len(cached) == 0 {
		return fmt.Errorf("the vm driver cached no block image of %s (snapshots %v)", big, imgs)
	}
	uncached := func() (time.Duration, error) {
		for _, f := range cached {
			if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
				return 0, err
			}
		}
		return run()
	}
	n := min(e.o.n, 11) // 2-3 s per sample under TCG
	p, err := bench.AB(fmt.Sprintf("images: rtd run --rm --driver vm of a %d MB image, its EROFS block image cached with the snapshot vs built per container", layers*layerMB+1),
		"cached block image", "built per container", n, run, uncached)
	if err != nil {
		return err
	}
	p.Note = fmt.Sprintf("difference %s", (p.MedianA - p.MedianB).Round(time.Millisecond))
	res.Pairs = append(res.Pairs, p)
	return nil
}

// pullVsCtr compares pull + unpack of big (n data layers) into an empty
// store: rtd pull vs ctr pull of containerd 2.2.
func (e *env) pullVsCtr(res *bench.Results, big string, n int) error {
	// Pull + unpack: rtd vs ctr (containerd 2.2), each into an empty store.
	cdBin, err := testutil.ContainerdBin()
	if err != nil {
		return skipf("ctr pull: %v", err)
	}
	s := &shimEnv{e: e, dir: filepath.Join(e.work, "images-cd"), cdBin: cdBin}
	s.sock = filepath.Join(s.dir, "c.sock")
	stop, err := s.start()
	if err != nil {
		return err
	}
	defer stop()
	rtdPull := func() (time.Duration, error) {
		store := filepath.Join(e.work, "imgstore")
		defer os.RemoveAll(store)
		start := time.Now()
		if out, err := e.rtdCmd(store, "pull", "-q", big); err != nil {
			return 0, fmt.Errorf("rtd pull: %v: %s", err, out)
		}
		return time.Since(start), nil
	}
	ctrPull := func() (time.Duration, error) {
		d, err := s.timed("ctr", "-n", "rtdbench-pull", "images", "pull", "--plain-http", big)()
		if err != nil {
			return 0, err
		}
		if out, err := s.cmd("ctr", "-n", "rtdbench-pull", "images", "rm", "--sync", big).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("ctr images rm: %v: %s", err, out)
		}
		return d, nil
	}
	p, err := bench.AB(fmt.Sprintf("images: pull + unpack of a %d MB %d-layer image from a registry on 127.0.0.1, rtd pull vs ctr pull (containerd 2.2.9, overlayfs snapshotter)", n*layerMB+1, n+1),
		"rtd pull", "ctr pull", e.o.n, rtdPull, ctrPull)
	if err != nil {
		return err
	}
	p.GoalRatio(1.2)
	res.Pairs = append(res.Pairs, p)
	return nil
}

// rtdCmd runs rtd against the run's root, with its image store in store
// ("" for the root's own).
func (e *env) rtdCmd(store string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(e.o.bin, "rtd"), append([]string{"--root", e.rtdRoot}, args...)...)
	if store != "" {
		cmd.Env = append(os.Environ(), "RTD_IMAGE_ROOT="+store)
	}
	out, err := cmd.CombinedOutput()
	return lastLines(string(out), 5), err
}

// rootfsLayer is a gzip layer of the run's busybox root filesystem.
func rootfsLayer(rootfs string) (v1.Layer, error) {
	var buf bytes.Buffer
	if err := tarDir(&buf, rootfs); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
}

// noiseLayer is a gzip layer holding one file of size random bytes,
// compressed once here (fast level: random data does not shrink).
func noiseLayer(name string, size int) (v1.Layer, error) {
	noise := make([]byte, size)
	if _, err := rand.Read(noise); err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(noise); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	data := gz.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
}

// push pushes an image of layers running /bin/true to ref.
func push(ref string, layers ...v1.Layer) error {
	img, err := mutate.AppendLayers(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON), layers...)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Cmd, cf.Config.Env = []string{"/bin/true"}, []string{"PATH=/bin"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return err
	}
	if err := remote.Write(r, img, remote.WithTransport(http.DefaultTransport)); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}
