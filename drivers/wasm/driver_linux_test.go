package wasm_test

import (
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/conformance/probe"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/testutil"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// The driver runs as a real plugin process built without cgo (as make
// build does): only then can its runners drop capabilities from every
// thread, which a -race test binary could not.
var bin struct {
	driver, probe string
	err           error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rtd-wasm-test-")
	if err != nil {
		panic(err)
	}
	bin.driver = filepath.Join(dir, "rtd-driver-wasm")
	bin.probe = filepath.Join(dir, testutil.ProbeWasm.Name)
	// The slim runner next to the driver, as make build puts it (the
	// conformance and e2e tests build the driver alone: its fallback).
	bin.err = testutil.BuildBinaries(dir, testutil.DriverWasm, testutil.Monitor, testutil.WasmRunner, testutil.ProbeWasm)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one test's driver process, state dir and root filesystem (the
// wasip1 probe at /probe.wasm).
type env struct {
	t      *testing.T
	ctx    context.Context
	d      *driver.Client
	state  string
	rootfs string
}

func newEnv(t *testing.T) *env {
	testutil.NeedRoot(t)
	testutil.TrackSources(t)
	if bin.err != nil {
		t.Fatal(bin.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, state: t.TempDir(), rootfs: t.TempDir()}
	data, err := os.ReadFile(bin.probe)
	if err != nil {
		t.Fatal(err)
	}
	e.write("probe.wasm", string(data), 0o755)
	p, err := driver.Launch(ctx, bin.driver, driver.LaunchOptions{StateDir: e.state, SocketDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	d := p.Client()
	e.d = d
	t.Cleanup(func() {
		list, _ := d.List(context.Background())
		for _, st := range list {
			_, _ = d.Delete(context.Background(), &driver.DeleteRequest{ID: st.ID, Force: true})
		}
		p.Close()
	})
	return e
}

func (e *env) write(name, data string, mode os.FileMode) string {
	p := filepath.Join(e.rootfs, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) spec(args ...string) *specs.Spec {
	return ocispec.Default(e.rootfs, append([]string{"/probe.wasm"}, args...))
}

// box is a created container with its output files.
type box struct {
	id          string
	stdout, err string
}

func (e *env) create(id string, sp *specs.Spec) (*box, error) {
	dir := e.t.TempDir()
	b := &box{id: id, stdout: filepath.Join(dir, "out"), err: filepath.Join(dir, "err")}
	_, err := e.d.Create(e.ctx, &driver.CreateRequest{ID: id, Bundle: testutil.Bundle(e.t, sp), Stdio: driver.Stdio{Stdout: b.stdout, Stderr: b.err}})
	return b, err
}

func (e *env) start(id string, sp *specs.Spec) *box {
	e.t.Helper()
	b, err := e.create(id, sp)
	if err != nil {
		e.t.Fatalf("create %s: %v", id, err)
	}
	if err := e.d.Start(e.ctx, id); err != nil {
		e.t.Fatalf("start %s: %v", id, err)
	}
	return b
}

// run starts a container and returns its exit status and stdout, stderr.
func (e *env) run(id string, sp *specs.Spec) (*driver.ExitStatus, string, string) {
	e.t.Helper()
	b := e.start(id, sp)
	st, err := e.d.Wait(e.ctx, &driver.WaitRequest{ID: id})
	if err != nil {
		e.t.Fatalf("wait %s: %v", id, err)
	}
	if _, err := e.d.Delete(e.ctx, &driver.DeleteRequest{ID: id}); err != nil {
		e.t.Fatalf("delete %s: %v", id, err)
	}
	out, _ := os.ReadFile(b.stdout)
	errOut, _ := os.ReadFile(b.err)
	return st, string(out), string(errOut)
}

func TestExitCodeArgsEnvCwdAndFiles(t *testing.T) {
	e := newEnv(t)
	if st, _, _ := e.run("exit42", e.spec("exit", "42")); st.Code != 42 || st.Signal != 0 {
		t.Errorf("exit 42: %+v", st)
	}
	e.write("app/data.txt", "in the rootfs", 0o644)
	shared := t.TempDir()
	if err := os.WriteFile(filepath.Join(shared, "m.txt"), []byte("from a bind mount"), 0o644); err != nil {
		t.Fatal(err)
	}
	sp := e.spec("report")
	sp.Process.Env = append(sp.Process.Env, "GREETING=hi there")
	sp.Process.Cwd = "/app"
	st, out, errOut := e.run("report", sp)
	var r probe.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || st.Code != 0 {
		t.Fatalf("report: %+v %v: %q %q", st, err, out, errOut)
	}
	if !contains(r.Env, "GREETING=hi there") || r.Cwd != "/app" || r.RootRO {
		t.Errorf("report: env %v, cwd %q, root read-only %v; want GREETING, /app, writable", r.Env, r.Cwd, r.RootRO)
	}
	if _, out, _ := e.run("relread", withCwd(e.spec("read", "data.txt"), "/app")); out != "in the rootfs" {
		t.Errorf("read data.txt in cwd /app: %q", out)
	}
	sp = e.spec("read", "/mnt/m.txt")
	sp.Mounts = append(sp.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: shared, Options: []string{"rbind", "ro"}})
	if _, out, _ := e.run("bind", sp); out != "from a bind mount" {
		t.Errorf("read through a bind mount: %q", out)
	}
	sp = e.spec("touch", "/mnt/new")
	sp.Mounts = append(sp.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: shared, Options: []string{"rbind", "ro"}})
	if st, out, _ := e.run("robind", sp); st.Code == 0 || out != "EROFS\n" {
		t.Errorf("touch in a read-only bind mount: %+v %q, want EROFS", st, out)
	}
	// Only the preopens are reachable: not the host's files.
	if st, out, _ := e.run("escape", e.spec("read", filepath.Join(shared, "m.txt"))); st.Code == 0 || strings.Contains(out, "bind mount") {
		t.Errorf("read a host path outside the preopens: %+v %q", st, out)
	}
	if st, out, _ := e.run("dotdot", e.spec("read", "/../../../../"+filepath.Join(shared, "m.txt"))); st.Code == 0 || strings.Contains(out, "bind mount") {
		t.Errorf("read a host path through ..: %+v %q", st, out)
	}
	sp = e.spec("touch", "/x")
	sp.Root.Readonly = true
	if st, out, _ := e.run("rootro", sp); st.Code == 0 || out != "EROFS\n" {
		t.Errorf("touch in a read-only root: %+v %q, want EROFS", st, out)
	}
}

func withCwd(sp *specs.Spec, cwd string) *specs.Spec { sp.Process.Cwd = cwd; return sp }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestLargeOutput(t *testing.T) {
	e := newEnv(t)
	const n = 50 << 20
	st, out, _ := e.run("big", e.spec("write", fmt.Sprint(n), "stdout"))
	if st.Code != 0 || len(out) != n {
		t.Fatalf("write 50 MB: %+v, got %d bytes", st, len(out))
	}
}

// Kill stops a sleeping module: SIGTERM as 143, SIGKILL as 137; a created,
// never started one can be killed too. The runner holds no capability and
// lives in the container's cgroup.
func TestKillCapsAndCgroup(t *testing.T) {
	e := newEnv(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL, syscall.SIGUSR1, syscall.SIGQUIT} {
		id := fmt.Sprintf("sleep%d", sig)
		e.start(id, e.spec("ready-sleep", "60"))
		st, err := e.d.State(e.ctx, id)
		if err != nil || st.Status != driver.StatusRunning || st.Pid == 0 {
			t.Fatalf("state: %+v %v", st, err)
		}
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", st.Pid))
		for _, field := range []string{"CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "NoNewPrivs:\t1"} {
			if !strings.Contains(string(status), field) {
				t.Errorf("runner's status lacks %q:\n%s", field, status)
			}
		}
		// The slim runner binary next to the driver runs the module.
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", st.Pid)); filepath.Base(exe) != "rtd-wasm-runner" {
			t.Errorf("runner runs %q, want rtd-wasm-runner next to the driver", exe)
		}
		cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", st.Pid))
		// The driver's default: /rtd/<hash of its state dir>/<id>.
		path := regexp.MustCompile(`:memory:(/rtd/[0-9a-f]{8}/` + id + `)\n`).FindStringSubmatch(string(cg))
		if path == nil {
			t.Fatalf("runner is not in a memory cgroup /rtd/HASH/%s: %s", id, cg)
		}
		if err := e.d.Kill(e.ctx, &driver.KillRequest{ID: id, Signal: uint32(sig)}); err != nil {
			t.Fatal(err)
		}
		ex, err := e.d.Wait(e.ctx, &driver.WaitRequest{ID: id})
		if err != nil || ex.Code != 128+uint32(sig) || ex.Signal != int32(sig) {
			t.Errorf("after signal %d: %+v %v", sig, ex, err)
		}
		if _, err := e.d.Delete(e.ctx, &driver.DeleteRequest{ID: id}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup/memory", path[1])); !os.IsNotExist(err) {
			t.Errorf("cgroup of %s left behind: %v", id, err)
		}
	}
	if _, err := e.create("created", e.spec("exit", "0")); err != nil {
		t.Fatal(err)
	}
	if err := e.d.Kill(e.ctx, &driver.KillRequest{ID: "created", Signal: 9}); err != nil {
		t.Fatal(err)
	}
	if ex, err := e.d.Wait(e.ctx, &driver.WaitRequest{ID: "created"}); err != nil || ex.Code != 137 {
		t.Errorf("killed created container: %+v %v", ex, err)
	}
}

// A memory limit caps the module's linear memory: allocating past it fails
// inside the module, which says so on stderr.
func TestMemoryLimit(t *testing.T) {
	e := newEnv(t)
	limit := int64(32 << 20)
	// Twice: the first run compiles the module, the second loads it from
	// the cache, and uses its memory differently.
	for _, id := range []string{"oom-cold", "oom-warm"} {
		sp := e.spec("alloc", "64")
		sp.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
		st, out, errOut := e.run(id, sp)
		if st.Code != 2 || st.OOMKilled || strings.Contains(out, "allocated") || !strings.Contains(errOut, "out of memory") {
			t.Errorf("%s: alloc 64 MB under a 32 MB limit: %+v, stdout %q, stderr %q; want the module's own out of memory (exit 2)", id, st, out, truncate(errOut))
		}
		// The runner says which limit the module met, whatever the module
		// prints itself.
		if !regexp.MustCompile(`(?m)^rtd-wasm: /probe.wasm: memory limit reached: growing the linear memory to \d+ MiB refused, the container's limit is 32 MiB \(linux.resources.memory.limit\)$`).MatchString(errOut) {
			t.Errorf("%s: stderr %q lacks the runner's line naming the 32 MiB limit", id, truncate(errOut))
		}
	}
	sp := e.spec("alloc", "16")
	sp.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
	b := e.start("fits16", sp)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if out, _ := os.ReadFile(b.stdout); strings.Contains(string(out), "allocated 16") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("alloc 16 MB under a 32 MB limit never finished")
		}
	}
	// Under the limit it works.
	sp = e.spec("exit", "0")
	sp.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
	if st, _, errOut := e.run("fits", sp); st.Code != 0 {
		t.Errorf("exit 0 under a 32 MB limit: %+v %q", st, truncate(errOut))
	}
	// A module whose memory starts above the limit is refused at Create.
	e.write("big.wasm", bigMemoryModule, 0o644)
	sp = e.spec()
	sp.Process.Args = []string{"/big.wasm"}
	sp.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
	if _, err := e.create("bigmem", sp); !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "62 MiB of linear memory at start, over the container's memory limit of 32 MiB") {
		t.Errorf("a module starting with 62.5 MiB under a 32 MiB limit: %v, want InvalidArgument naming both", err)
	}
}

// bigMemoryModule is (module (memory (export "memory") 1000)): 62.5 MiB at
// start.
const bigMemoryModule = "\x00asm\x01\x00\x00\x00" +
	"\x05\x04\x01\x00\xe8\x07" + // memory section: min 1000 pages, no max
	"\x07\x0a\x01\x06memory\x02\x00" // export section: memory 0

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// What is not a WebAssembly core module is refused at Create, with the
// class and a message that says what to do; nothing is left behind.
func TestRefusals(t *testing.T) {
	e := newEnv(t)
	e.write("bin/tool", "\x7fELF\x02\x01\x01\x00", 0o755)
	e.write("run.sh", "#!/bin/sh\necho hi\n", 0o755)
	e.write("comp.wasm", "\x00asm\x0d\x00\x01\x00", 0o644)
	e.write("env.wasm", envImportModule, 0o644)
	for _, tc := range []struct {
		arg0  string
		class func(error) bool
		want  string
	}{
		{"/bin/tool", errdefs.IsInvalidArgument, "linux driver"},
		{"/run.sh", errdefs.IsInvalidArgument, "linux driver"},
		{"/no/such.wasm", errdefs.IsNotFound, "no such module"},
		{"/comp.wasm", errdefs.IsNotImplemented, "component"},
		{"/env.wasm", errdefs.IsNotImplemented, "env.f"},
		{"/probe.wasm#nosuchexport", errdefs.IsInvalidArgument, "nosuchexport"},
	} {
		sp := e.spec()
		sp.Process.Args = []string{tc.arg0}
		_, err := e.create("refused", sp)
		if err == nil || !tc.class(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a classed error naming %q", tc.arg0, err, tc.want)
		}
	}
	if list, _ := e.d.List(e.ctx); len(list) != 0 {
		t.Errorf("refused creates left containers: %v", list)
	}
	if entries, _ := os.ReadDir(filepath.Join(e.state, "c")); len(entries) != 0 {
		t.Errorf("refused creates left state: %v", entries)
	}
}

// envImportModule is a minimal module importing env.f: (module (import
// "env" "f" (func))).
const envImportModule = "\x00asm\x01\x00\x00\x00" +
	"\x01\x04\x01\x60\x00\x00" + // type section: one func type () -> ()
	"\x02\x09\x01\x03env\x01f\x00\x00" // import section: env.f, func of type 0

// A second run of the same module loads the compiled code from the cache
// under the state dir instead of compiling again.
func TestCompilationCache(t *testing.T) {
	e := newEnv(t)
	e.run("first", e.spec("exit", "0"))
	cache := filepath.Join(e.state, "cache")
	before := cacheFiles(t, cache)
	if len(before) == 0 {
		t.Fatalf("no compiled module in %s after a run", cache)
	}
	// Keyed by wazero's version (the directory) and the module's digest
	// (the file): another wazero never loads this code.
	verDir := filepath.Join(cache, "wazero-"+wazeroVersion(t)+"-"+runtime.GOARCH+"-linux")
	for p := range before {
		if filepath.Dir(p) != verDir || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(filepath.Base(p)) {
			t.Errorf("cached %s: want %s/<sha256>", p, verDir)
		}
	}
	e.run("second", e.spec("exit", "0"))
	after := cacheFiles(t, cache)
	if len(after) != len(before) {
		t.Errorf("cache grew from %d to %d files: the module was compiled again", len(before), len(after))
	}
	for p, mt := range before {
		if after[p] != mt {
			t.Errorf("%s was rewritten", p)
		}
	}
}

// wazeroVersion is the wazero version the driver binary links.
func wazeroVersion(t *testing.T) string {
	info, err := buildinfo.ReadFile(bin.driver)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range info.Deps {
		if m.Path == "github.com/tetratelabs/wazero" {
			return m.Version
		}
	}
	t.Fatalf("no wazero in the build info of %s", bin.driver)
	return ""
}

func cacheFiles(t *testing.T, dir string) map[string]time.Time {
	out := map[string]time.Time{}
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			out[p] = fi.ModTime()
		}
		return nil
	})
	return out
}
