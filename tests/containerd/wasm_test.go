//go:build linux

package containerd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rtd-project/rtd/internal/testutil/testimage"
)

// wasmImage is the WASI hello (internal/testutil/wasmhello) as an image of
// platform wasi/wasm, built at test time.
const wasmImage = "docker.io/rtd/wasm-hello:test"

// buildWasmImage builds the WASI hello for wasip1 and writes an OCI archive
// of an image of platform wasi/wasm whose one layer is a tar holding
// /hello.wasm: containerd 2.2's unpacker applies only tar layers
// (images.IsLayerType) to the snapshot, so a module in a layer of media
// type application/wasm would never reach the rootfs the shim mounts.
func buildWasmImage(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	module := filepath.Join(dir, "hello.wasm")
	cmd := exec.Command("go", "build", "-o", module, "github.com/rtd-project/rtd/internal/testutil/wasmhello")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the wasip1 hello: %v\n%s", err, out)
	}
	data, err := os.ReadFile(module)
	if err != nil {
		t.Fatal(err)
	}
	layer := testimage.Layer(t, testimage.File{Name: "hello.wasm", Body: string(data), Mode: 0o755})
	img := testimage.Image(t, testimage.Config{Entrypoint: []string{"/hello.wasm"}, OS: "wasi", Arch: "wasm"}, layer)
	out := filepath.Join(dir, "wasm.tar")
	testimage.WriteOCIArchive(t, out, map[string]v1.Image{wasmImage: img})
	return out
}

// TestCtrRunWasm: `ctr run --runtime io.containerd.rtd.v2` with the wasm
// handler (driver = "wasm") runs a wasi/wasm image's module: its output,
// its exit code 42, kill of a sleeping module, and nothing left behind.
func TestCtrRunWasm(t *testing.T) {
	d := startContainerd(t)
	ok(t, d.ctr("images", "import", "--platform", "wasi/wasm", buildWasmImage(t)))
	flags := append([]string{"--platform", "wasi/wasm"}, d.runtimeFlags("wasm")...)
	run := func(id string, args ...string) result {
		a := append(append([]string{"run", "--rm"}, flags...), wasmImage, id)
		return d.ctr(append(a, args...)...)
	}

	id := uid("wasm-hello")
	if r := run(id); r.code != 0 || r.stdout != "Hello from WebAssembly!\n" {
		t.Fatalf("want the module's greeting and exit 0: %s", r)
	}
	assertNoShimState(t, id)

	id = uid("wasm-exit")
	if r := run(id, "/hello.wasm", "exit", "42"); r.code != 42 {
		t.Fatalf("want exit 42: %s", r)
	}
	assertNoShimState(t, id)

	// A sleeping module stops on `ctr task kill`: SIGTERM, which the
	// module cannot catch, ends it with 128+15.
	id = uid("wasm-sleep")
	ok(t, d.ctr(append(append([]string{"run", "-d"}, flags...), wasmImage, id, "/hello.wasm", "sleep", "600")...))
	d.waitStatus(id, "RUNNING")
	start := time.Now()
	ok(t, d.ctr("task", "kill", id))
	d.waitStatus(id, "STOPPED")
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("kill took %v", took)
	}
	ok(t, d.ctr("task", "rm", id))
	ok(t, d.ctr("containers", "rm", id))
	assertNoShimState(t, id)

	// A native program under the wasm handler: one clear error naming the
	// driver to use, and no task left.
	id = uid("wasm-native")
	d.importImages()
	r := d.ctr(append(append([]string{"run", "--rm"}, d.runtimeFlags("wasm")...), busyboxImage, id, "/bin/true")...)
	if r.code == 0 || !strings.Contains(r.stderr, "not a WebAssembly module") || !strings.Contains(r.stderr, "--driver linux") {
		t.Errorf("want a clear refusal of an ELF program: %s", r)
	}
	d.ctr("containers", "rm", id)
	assertNoShimState(t, id)
}
