package core

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// An isolation requirement never sends a native workload to a wasm driver
// although wasm ranks above process, and a WebAssembly workload goes only
// to wasm drivers.
func TestSelectionKeepsWasmAndNativeApart(t *testing.T) {
	dir := fakeDriverDir(t)
	exe, _ := os.Readlink(filepath.Join(dir, fakeDriverName))
	for _, class := range []string{"wasm", "sandbox"} {
		if err := os.Symlink(exe, filepath.Join(dir, fakeDriverName+class)); err != nil {
			t.Fatal(err)
		}
	}
	c := New(Options{Root: t.TempDir(), SearchPath: []string{dir}})
	defer c.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		sel  Selection
		want string
	}{
		{Selection{Isolation: driver.IsolationWasm}, "fakesandbox"},
		{Selection{Isolation: driver.IsolationProcess}, "fake"},
		{Selection{Isolation: driver.IsolationProcess, Wasm: true}, "fakewasm"},
		{Selection{Wasm: true}, "fakewasm"},
		{Selection{Driver: "fake"}, "fake"},
	} {
		ch, err := c.SelectDriver(ctx, tc.sel)
		if err != nil || ch.Binary.Name != tc.want {
			t.Errorf("%+v: %+v %v, want %s", tc.sel, ch, err, tc.want)
		}
	}
	// No wasm driver is strong enough for a wasm workload that needs vm.
	_, err := c.SelectDriver(ctx, Selection{Isolation: driver.IsolationVM, Wasm: true})
	if err == nil || !strings.Contains(err.Error(), "only drivers of the wasm class run WebAssembly modules") {
		t.Errorf("wasm workload needing vm: %v", err)
	}
}

func TestWasmWorkload(t *testing.T) {
	root := t.TempDir()
	for name, data := range map[string]string{"m.wasm": "\x00asm\x01\x00\x00\x00", "bin/sh": "\x7fELF\x02"} {
		p := filepath.Join(root, name)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	spec := func(args ...string) *specs.Spec {
		return &specs.Spec{Root: &specs.Root{Path: root}, Process: &specs.Process{Args: args, Cwd: "/", Env: []string{"PATH=/bin"}}}
	}
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"/m.wasm"}, true}, {[]string{"/m.wasm#run", "x"}, true}, {[]string{"m.wasm"}, true},
		{[]string{"sh"}, false}, {[]string{"/missing.wasm"}, false},
	} {
		if got := WasmWorkload(spec(tc.args...)); got != tc.want {
			t.Errorf("WasmWorkload(%v) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

// A unikernel driver runs only declared unikernels: --isolation vm or a
// policy minimum never sends an ordinary container to it, only an explicit
// unikernel requirement does.
func TestUnikernelOnlyByExplicitRequest(t *testing.T) {
	for _, c := range []struct {
		class, min driver.IsolationClass
		want       bool
	}{
		{driver.IsolationUnikernel, driver.IsolationVM, false},
		{driver.IsolationUnikernel, driver.IsolationSandbox, false},
		{driver.IsolationUnikernel, driver.IsolationProcess, false},
		{driver.IsolationUnikernel, driver.IsolationUnikernel, true},
		{driver.IsolationVM, driver.IsolationVM, true},
		{driver.IsolationVM, driver.IsolationUnikernel, true},
		{driver.IsolationSandbox, driver.IsolationProcess, true},
	} {
		if got := routable(c.class, c.min); got != c.want {
			t.Errorf("routable(%s, min %s) = %v, want %v", c.class, c.min, got, c.want)
		}
	}
}
