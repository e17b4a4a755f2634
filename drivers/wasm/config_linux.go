package wasm

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/wasm/runner"
	"github.com/rtd-project/rtd/internal/wasmbin"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// findModule applies runwasi's rule: process.args[0] must name a
// WebAssembly core module in the root filesystem.
func findModule(id string, spec *specs.Spec) (*wasmbin.Program, error) {
	p := spec.Process
	prog, err := wasmbin.Find(spec.Root.Path, p.Args[0], p.Cwd, p.Env)
	if err != nil {
		// As for a missing executable on every driver: NotFound (rtd exits 127).
		return nil, driver.NotFoundf("create %s: %s: no such module in the root filesystem %s", id, p.Args[0], spec.Root.Path)
	}
	switch prog.Kind {
	case wasmbin.Module:
		return prog, nil
	case wasmbin.Component:
		return nil, driver.NotImplementedf("create %s: %s is a WebAssembly component (component model, WASI preview 2, wasi:http, Spin): wazero runs only core modules with WASI preview 1; build it for wasip1 (GOOS=wasip1, wasm32-wasip1)", id, prog.Guest)
	case wasmbin.ELF, wasmbin.Script:
		return nil, driver.InvalidArgumentf("create %s: %s is an %s, not a WebAssembly module: run it with the linux driver (--driver linux)", id, prog.Guest, prog.Kind)
	}
	return nil, driver.InvalidArgumentf("create %s: %s is not a WebAssembly module (no \\0asm magic): the wasm driver runs only WebAssembly core modules", id, prog.Guest)
}

// newRunConfig maps the OCI spec onto WASI: args, env (PWD carries the
// working directory, as Go's and wasi-libc's runtimes read it), the root
// filesystem as "/", bind mounts as their own preopens and tmpfs mounts as
// private empty directories; memory and CPU limits.
func newRunConfig(id, dir, cacheDir string, spec *specs.Spec, prog *wasmbin.Program) (*runner.Config, error) {
	p := spec.Process
	if p.Terminal {
		return nil, driver.NotImplementedf("create %s: the wasm driver has no terminal support (WASI preview 1 has no tty)", id)
	}
	cfg := &runner.Config{
		ID: id, Module: prog.Host, Guest: prog.Guest, Export: prog.Export,
		Args: append([]string{prog.Guest}, p.Args[1:]...), Env: slices.Clone(p.Env), CacheDir: cacheDir,
		// Per state dir, as the linux and gvisor drivers do, when the spec
		// names none (rtd's core always names one).
		Cgroup: ocispec.CgroupsPath(filepath.Dir(cacheDir), id),
	}
	cwd := p.Cwd
	if cwd == "" {
		cwd = "/"
	}
	if !slices.ContainsFunc(cfg.Env, func(kv string) bool { return strings.HasPrefix(kv, "PWD=") }) {
		cfg.Env = append(cfg.Env, "PWD="+path.Clean("/"+cwd))
	}
	ro := spec.Root.Readonly
	cfg.Preopens = append(cfg.Preopens, runner.Preopen{Host: spec.Root.Path, Guest: "/", ReadOnly: ro})
	for i, m := range spec.Mounts {
		guest := path.Clean("/" + m.Destination)
		if guest == "/" {
			continue
		}
		switch {
		case m.Type == "bind" || slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind"):
			fi, err := os.Stat(m.Source)
			if err != nil {
				return nil, driver.InvalidArgumentf("create %s: bind mount %s: %v", id, m.Destination, err)
			}
			if !fi.IsDir() {
				// WASI preopens are directories: a file is reached through
				// its directory only, which would expose its siblings.
				return nil, driver.InvalidArgumentf("create %s: bind mount %s: the wasm driver can preopen directories only, %s is a file", id, m.Destination, m.Source)
			}
			cfg.Preopens = append(cfg.Preopens, runner.Preopen{Host: m.Source, Guest: guest, ReadOnly: slices.Contains(m.Options, "ro")})
		case m.Type == "tmpfs":
			host := filepath.Join(dir, "tmpfs", fmt.Sprint(i))
			if err := os.MkdirAll(host, 0o755); err != nil {
				return nil, fmt.Errorf("create %s: tmpfs %s: %w", id, m.Destination, err)
			}
			cfg.Preopens = append(cfg.Preopens, runner.Preopen{Host: host, Guest: guest, ReadOnly: slices.Contains(m.Options, "ro")})
		}
		// proc, sysfs, devpts, mqueue, cgroup: nothing of them exists in WASI.
	}
	if l := spec.Linux; l != nil {
		if l.CgroupsPath != "" {
			cfg.Cgroup = l.CgroupsPath
		}
		if r := l.Resources; r != nil {
			if r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit > 0 {
				return nil, driver.NotImplementedf("create %s: the wasm driver does not support a pids limit: a module cannot start processes, and the limit would count the runtime's own threads", id)
			}
			res := &specs.LinuxResources{CPU: r.CPU}
			if r.Memory != nil && r.Memory.Limit != nil && *r.Memory.Limit > 0 {
				limit := *r.Memory.Limit
				pages := limit / runner.PageSize
				if pages < 1 {
					return nil, driver.InvalidArgumentf("create %s: memory limit %d bytes is below one WebAssembly page (64 KiB)", id, limit)
				}
				cfg.MemoryPages = uint32(min(pages, 65536))
				total := limit + runner.Overhead
				res.Memory = &specs.LinuxMemory{Limit: &total}
			}
			cfg.Resources = res
		}
	}
	return cfg, nil
}
