package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rtd-project/rtd/bench"
)

// wazeroCache holds the wazero CLI, built once per version from the Go
// module proxy (as the project's other tools are cached under /var/cache/rtd).
const wazeroCache = "/var/cache/rtd/wazero"

// wasm compares rtd run --rm --driver wasm of a WASI hello (Go, wasip1)
// with the bare wazero CLI of the same wazero version running the same
// module: warm (both with a filled compilation cache) and cold (both with
// an empty one each time).
func (e *env) wasm(res *bench.Results) error {
	if _, err := os.Stat(filepath.Join(e.o.bin, "rtd-driver-wasm")); err != nil {
		return skipf("%s/rtd-driver-wasm not built", e.o.bin)
	}
	if err := e.ready("wasm"); err != nil {
		return err
	}
	wazero, version, err := wazeroCLI()
	if err != nil {
		return err
	}
	root := filepath.Join(e.work, "wasmroot")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	module := filepath.Join(root, "hello.wasm")
	build := exec.Command("go", "build", "-o", module, "github.com/rtd-project/rtd/internal/testutil/wasmhello")
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build the wasip1 hello: %v: %s", err, out)
	}
	cache := filepath.Join(e.work, "wazero-cache")
	p, err := bench.AB("wasm: rtd run --rm --driver wasm vs wazero run (warm compilation cache)", "rtd run --rm --driver wasm", "wazero run", e.o.n,
		e.rtd("run", "--rm", "--driver", "wasm", root, "/hello.wasm"),
		timed(wazero, "run", "-cachedir="+cache, "-mount="+root+":/", module))
	if err != nil {
		return err
	}
	p.Note = fmt.Sprintf("wazero %s on both sides; the same Go wasip1 hello; rtd adds %s per run", version, round(p.MedianA-p.MedianB))
	res.Pairs = append(res.Pairs, p)
	wasmAdded := p.MedianA - p.MedianB
	// The yardstick: what rtd adds to wazero may be no more than
	// what it adds to runc for the same hello built natively, in this run.
	native, err := e.nativeHello()
	if err != nil {
		return err
	}
	runcRoot := filepath.Join(e.work, "runc-wasmstep")
	p, err = bench.AB("wasm step: rtd run --rm --driver linux vs runc run (a static native Go hello)", "rtd run --rm --driver linux", "runc run", e.o.n,
		e.rtd("run", "--rm", "--driver", "linux", native),
		e.fresh(func(id string) bench.Sample { return timed("runc", "--root", runcRoot, "run", "--bundle", native, id) }))
	if err != nil {
		return err
	}
	linuxAdded := p.MedianA - p.MedianB
	p.Note = fmt.Sprintf("the same source as the wasm hello, GOOS=linux CGO_ENABLED=0; rtd adds %s per run", round(linuxAdded))
	res.Pairs = append(res.Pairs, p)
	res.Values = append(res.Values, bench.Value{
		Name:  "wasm: ms rtd adds to wazero run (warm) vs ms rtd adds to runc run (linux), same run",
		Value: fmt.Sprintf("%s vs %s", round(wasmAdded), round(linuxAdded)),
		Goal:  "wasm's added ms <= linux's",
		Met:   bench.Met(wasmAdded <= linuxAdded),
	})
	// Cold: a fresh rtd root (so a fresh driver state dir and compilation
	// cache) and a fresh wazero cache dir for every sample.
	n := min(e.o.n, 5)
	p, err = bench.AB("wasm: rtd run --rm --driver wasm vs wazero run (cold: empty compilation cache)", "rtd run --rm --driver wasm", "wazero run", n,
		func() (d time.Duration, err error) {
			r := filepath.Join(e.work, e.id("coldroot"))
			defer os.RemoveAll(r)
			return timed(filepath.Join(e.o.bin, "rtd"), "--root", r, "run", "--rm", "--driver", "wasm", root, "/hello.wasm")()
		},
		func() (time.Duration, error) {
			c := filepath.Join(e.work, e.id("coldcache"))
			defer os.RemoveAll(c)
			return timed(wazero, "run", "-cachedir="+c, "-mount="+root+":/", module)()
		})
	if err != nil {
		return err
	}
	p.Note = "each sample compiles the module (~2.6 MB of Go wasip1) from scratch"
	res.Pairs = append(res.Pairs, p)
	return e.wasmTasks(res, root, native)
}

// wazeroCLI returns the wazero CLI of the wazero version in go.mod, built
// with go install into /var/cache/rtd/wazero/VERSION once.
func wazeroCLI() (string, string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/tetratelabs/wazero").Output()
	if err != nil {
		return "", "", fmt.Errorf("wazero version from go.mod: %v", err)
	}
	version := strings.TrimSpace(string(out))
	dir := filepath.Join(wazeroCache, version)
	bin := filepath.Join(dir, "wazero")
	if _, err := os.Stat(bin); err == nil {
		return bin, version, nil
	}
	cmd := exec.Command("go", "install", "github.com/tetratelabs/wazero/cmd/wazero@"+version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("go install wazero %s: %v: %s", version, err, out)
	}
	return bin, version, nil
}
