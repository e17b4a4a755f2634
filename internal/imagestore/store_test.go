package imagestore_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rtd-project/rtd/internal/imagestore"
	"github.com/rtd-project/rtd/internal/testutil/testimage"
)

func open(t *testing.T) *imagestore.Store {
	t.Helper()
	s, err := imagestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// layered is a three-layer image with a deleted file and an opaque dir.
func layered(t *testing.T) (l1, l2, l3 []testimage.File) {
	l1 = []testimage.File{testimage.Dir("etc"), {Name: "etc/gone", Body: "x"}, {Name: "etc/kept", Body: "k"},
		testimage.Dir("opq"), {Name: "opq/old", Body: "old"}, testimage.Dir("d"), {Name: "d/f", Body: "f"}}
	l2 = []testimage.File{testimage.Whiteout("etc/gone"), testimage.Opaque("opq"), {Name: "opq/new", Body: "new"}}
	l3 = []testimage.File{testimage.Whiteout("d"), {Name: "etc/kept", Body: "changed"}}
	return
}

func TestPullUnpackAppliesWhiteouts(t *testing.T) {
	ctx := context.Background()
	host := testimage.Registry(t)
	l1, l2, l3 := layered(t)
	img := testimage.Image(t, testimage.Config{Cmd: []string{"sh"}},
		testimage.Layer(t, l1...), testimage.Layer(t, l2...), testimage.Layer(t, l3...))
	dig := testimage.Push(t, host+"/multi:1", img)
	s := open(t)
	im, err := s.Pull(ctx, host+"/multi:1", imagestore.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if im.Digest.String() != dig || im.Name != host+"/multi:1" {
		t.Fatalf("pulled %s %s, want %s", im.Name, im.Digest, dig)
	}
	root, err := s.Unpack(ctx, im)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"etc/gone": "", "etc/kept": "changed", "opq/old": "", "opq/new": "new", "d": ""} {
		data, err := os.ReadFile(filepath.Join(root, p))
		switch {
		case want == "" && !os.IsNotExist(err):
			t.Errorf("%s: present (%v), want deleted by a whiteout", p, err)
		case want != "" && string(data) != want:
			t.Errorf("%s = %q (%v), want %q", p, data, err, want)
		}
	}
	for _, ref := range []string{host + "/multi:1", dig, im.ID(), host + "/multi@" + dig} {
		if got, err := s.Lookup(ref); err != nil || got.Digest != im.Digest {
			t.Errorf("Lookup(%s) = %v, %v", ref, got, err)
		}
	}
}

func TestPullErrors(t *testing.T) {
	ctx := context.Background()
	var corrupt, cut atomic.Bool
	var blobGets atomic.Int32
	big := testimage.Layer(t, testimage.File{Name: "big", Body: strings.Repeat("0123456789abcdef", 4096)})
	bd, err := big.Digest()
	if err != nil {
		t.Fatal(err)
	}
	bigDigest := bd.String()
	host := testimage.Registry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if testimage.IsBlobGet(r) && strings.HasSuffix(r.URL.Path, bigDigest) {
				blobGets.Add(1)
				rec := &capture{header: http.Header{}}
				h.ServeHTTP(rec, r)
				body := rec.body
				if corrupt.Load() && len(body) > 100 {
					body = append([]byte(nil), body...)
					body[50] ^= 0xff
				}
				for k, v := range rec.header {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.code)
				if cut.Load() && len(body) > 100 {
					w.Write(body[:len(body)/2])
					panic(http.ErrAbortHandler) // drops the connection mid-layer
				}
				w.Write(body)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	testimage.Push(t, host+"/app:1", testimage.Image(t, testimage.Config{Cmd: []string{"x"}}, big))
	testimage.Push(t, host+"/arm:1", testimage.Image(t, testimage.Config{Cmd: []string{"x"}, Arch: "arm64"}, big))
	s := open(t)
	noTemp := func() {
		t.Helper()
		matches, _ := filepath.Glob(filepath.Join(s.Root(), "blobs", "sha256", ".tmp-*"))
		ims, _ := s.List()
		if len(matches) != 0 || len(ims) != 0 {
			t.Fatalf("left behind: %v, images %d", matches, len(ims))
		}
	}
	cases := []struct {
		ref   string
		setup func()
		class func(error) bool
	}{
		{host + "/nothere:1", func() {}, errdefs.IsNotFound},
		{host + "/app:nosuchtag", func() {}, errdefs.IsNotFound},
		{"bad ref!", func() {}, errdefs.IsInvalidArgument},
		{host + "/arm:1", func() {}, errdefs.IsFailedPrecondition},
		{host + "/app:1", func() { corrupt.Store(true) }, errdefs.IsDataLoss},
		{host + "/app:1", func() { corrupt.Store(false); cut.Store(true) }, errdefs.IsUnavailable},
	}
	for _, tc := range cases {
		tc.setup()
		_, err := s.Pull(ctx, tc.ref, imagestore.PullOptions{NoRetry: true})
		if err == nil || !tc.class(err) {
			t.Errorf("pull %s: %v: wrong class", tc.ref, err)
		}
		noTemp()
	}
	cut.Store(false)
	if _, err := s.Pull(ctx, host+"/app:1", imagestore.PullOptions{}); err != nil {
		t.Fatalf("pull after a cut connection: %v", err)
	}
	// Concurrent pulls of one image fetch its layer once.
	s2 := open(t)
	blobGets.Store(0)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s2.Pull(ctx, host+"/app:1", imagestore.PullOptions{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := blobGets.Load(); n != 1 {
		t.Errorf("4 concurrent pulls fetched the layer %d times, want 1", n)
	}
}

type capture struct {
	header http.Header
	code   int
	body   []byte
}

func (c *capture) Header() http.Header  { return c.header }
func (c *capture) WriteHeader(code int) { c.code = code }
func (c *capture) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = 200
	}
	c.body = append(c.body, b...)
	return len(b), nil
}

func TestUnpackRefusesPathTraversal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	evil := testimage.LayerFromTar(t, testimage.Tar(t, testimage.File{Name: "../../evil", Body: "x"}))
	testimage.WriteLayout(t, dir, testimage.Image(t, testimage.Config{Cmd: []string{"x"}}, evil))
	s := open(t)
	im, err := s.ImportLayout(ctx, dir, imagestore.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Unpack(ctx, im); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("unpack of a layer with ../../evil: %v, want InvalidArgument", err)
	}
	left, _ := os.ReadDir(filepath.Join(s.Root(), "snapshots"))
	if len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "..", "evil")); err == nil {
		t.Error("the entry escaped the root")
	}
}

func TestLoadRemovePrune(t *testing.T) {
	ctx := context.Background()
	img := testimage.Image(t, testimage.Config{Cmd: []string{"/hello"}}, testimage.Layer(t, testimage.File{Name: "hello", Body: "hi", Mode: 0o755}))
	other := testimage.Image(t, testimage.Config{Cmd: []string{"/x"}}, testimage.Layer(t, testimage.File{Name: "x", Body: "x"}))
	dir := t.TempDir()
	docker := filepath.Join(dir, "docker.tar")
	oci := filepath.Join(dir, "oci.tar")
	testimage.WriteDockerTar(t, docker, "hello-world:latest", img)
	testimage.WriteOCIArchive(t, oci, map[string]v1.Image{"example.com/other:2": other})
	s := open(t)
	for _, f := range []string{docker, oci} {
		if _, err := s.Load(ctx, f, imagestore.LoadOptions{}); err != nil {
			t.Fatalf("load %s: %v", f, err)
		}
	}
	for _, ref := range []string{"hello-world", "docker.io/library/hello-world:latest", "example.com/other:2"} {
		im, err := s.Lookup(ref)
		if err != nil {
			t.Fatalf("lookup %s: %v", ref, err)
		}
		if _, err := s.Unpack(ctx, im); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Load(ctx, filepath.Join(dir, "missing.tar"), imagestore.LoadOptions{}); !errdefs.IsNotFound(err) {
		t.Errorf("load of a missing file: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "junk"), []byte("junk"), 0o644)
	if _, err := s.Load(ctx, filepath.Join(dir, "junk"), imagestore.LoadOptions{}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("load of junk: %v", err)
	}
	inUse := func(key string) bool { return false }
	if _, err := s.Remove(ctx, "hello-world", false, func(string) bool { return true }); !errdefs.IsFailedPrecondition(err) {
		t.Errorf("rmi of an image in use: %v", err)
	}
	if _, err := s.Remove(ctx, "hello-world", false, inUse); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(ctx, "hello-world", false, inUse); !errdefs.IsNotFound(err) {
		t.Errorf("second rmi: %v", err)
	}
	if _, _, err := s.Prune(ctx, true, inUse); err != nil {
		t.Fatal(err)
	}
	blobs, _ := os.ReadDir(filepath.Join(s.Root(), "blobs", "sha256"))
	snaps, _ := os.ReadDir(filepath.Join(s.Root(), "snapshots"))
	if len(blobs) != 0 || len(snaps) != 0 {
		t.Errorf("after prune -a: %d blobs, %d snapshots left", len(blobs), len(snaps))
	}
}

func TestPullPicksPlatform(t *testing.T) {
	ctx := context.Background()
	host := testimage.Registry(t)
	l := testimage.Layer(t, testimage.File{Name: "x", Body: "x"})
	amd := testimage.Image(t, testimage.Config{Cmd: []string{"amd"}}, l)
	arm := testimage.Image(t, testimage.Config{Cmd: []string{"arm"}, Arch: "arm64"}, l)
	wasm := testimage.Image(t, testimage.Config{Cmd: []string{"/m.wasm"}, OS: "wasip1", Arch: "wasm"}, testimage.WasmLayer([]byte("\x00asm\x01\x00\x00\x00")))
	testimage.PushIndex(t, host+"/multi:1", testimage.Index(t, arm, amd))
	testimage.PushIndex(t, host+"/armonly:1", testimage.Index(t, arm))
	testimage.PushIndex(t, host+"/wasm:1", testimage.Index(t, wasm))
	s := open(t)
	im, err := s.Pull(ctx, host+"/multi:1", imagestore.PullOptions{})
	if err != nil || im.Config.Config.Cmd[0] != "amd" {
		t.Fatalf("pull of a multi-platform index: %v %v", im, err)
	}
	arm64 := imagestore.Platform{OS: "linux", Architecture: "arm64"}
	if im, err := s.Pull(ctx, host+"/multi:1", imagestore.PullOptions{Platform: &arm64}); err != nil || im.Config.Config.Cmd[0] != "arm" {
		t.Fatalf("pull --platform linux/arm64: %v %v", im, err)
	}
	if _, err := s.Pull(ctx, host+"/armonly:1", imagestore.PullOptions{}); !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), "linux/arm64") {
		t.Fatalf("pull of an arm64-only index: %v", err)
	}
	im, err = s.Pull(ctx, host+"/wasm:1", imagestore.PullOptions{})
	if err != nil || !imagestore.IsWasmImage(im) {
		t.Fatalf("pull of a wasi/wasm index: %v %v", im, err)
	}
	root, err := s.Unpack(ctx, im)
	if err != nil {
		t.Fatal(err)
	}
	mods := imagestore.WasmModules(im)
	if data, err := os.ReadFile(filepath.Join(root, mods[0])); err != nil || string(data[:4]) != "\x00asm" {
		t.Fatalf("module %s: %v", mods[0], err)
	}
}

func TestProgressLines(t *testing.T) {
	var b strings.Builder
	p := imagestore.NewProgress(&b, false)
	p.Start("aaaa", 2000)
	p.Update("aaaa", 1000)
	p.Done("aaaa", 2000, "done")
	p.Done("bbbb", 10, "already here")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "aaaa done 2.0kB") || lines[1] != "bbbb already here (10B)" {
		t.Fatalf("progress without a terminal: %q", b.String())
	}
	b.Reset()
	p = imagestore.NewProgress(&b, true)
	p.Start("aaaa", 2000)
	time.Sleep(150 * time.Millisecond) // bars are redrawn at most 10 times a second
	p.Update("aaaa", 1000)
	// A bar with the bytes so far, the size and the speed, redrawn in place.
	if s := b.String(); !strings.Contains(s, "aaaa [===============               ] 1.0kB/2.0kB ") || !strings.Contains(s, "B/s") {
		t.Fatalf("progress bar on a terminal: %q", s)
	}
	p.Done("aaaa", 2000, "done")
	if !strings.Contains(b.String(), "\x1b[1A") {
		t.Fatalf("progress on a terminal: %q", b.String())
	}
}
