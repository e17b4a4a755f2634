package runner

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/kit/atomicfile"
	"github.com/rtd-project/rtd/kit/monitor/proc"
)

// trapExitCode is the exit code of a module that trapped (as wasmtime's
// CLI: 128+SIGABRT); the reason is one line on the module's stderr.
const trapExitCode = 134

// wasiModule is the only import module a WASI preview 1 module may use.
const wasiModule = "wasi_snapshot_preview1"

// IsRunner reports whether this process was started as a runner.
func IsRunner() bool { return len(os.Args) == 2 && os.Args[0] == Name }

// Main drops every capability, waits to be in its cgroup, compiles
// the module, reports ready, waits for Start and runs the module. It
// returns the module's exit code.
func Main() int {
	_ = os.WriteFile("/proc/self/comm", []byte(Name), 0)
	go dieOnSignals()
	ready := os.NewFile(3, "ready")
	report := func(err error) {
		rep := Report{}
		if err != nil {
			rep.Error, rep.Class = err.Error(), proc.ErrorClass(err)
		}
		_ = json.NewEncoder(ready).Encode(rep)
		ready.Close()
	}
	if err := dropPrivileges(); err != nil {
		report(fmt.Errorf("runner: drop capabilities: %w", err))
		return 1
	}
	gate := os.NewFile(4, "go")
	if _, err := gate.Read(make([]byte, 1)); err != nil {
		report(fmt.Errorf("runner: monitor went away: %w", err))
		return 1
	}
	gate.Close()
	dir := os.Args[1]
	var cfg Config
	if err := atomicfile.ReadJSON(filepath.Join(dir, File), &cfg); err != nil {
		report(fmt.Errorf("runner: read %s: %w", File, err))
		return 1
	}
	ctx := context.Background()
	r, mod, err := prepare(ctx, &cfg)
	if err != nil {
		report(err)
		return 1
	}
	// Give back what the compile used before the monitor sets the memory
	// limit of the cgroup. A full collection and scavenge costs 10 to 20
	// ms of every warm start: only pay it when there is a limit to meet.
	if hasMemoryLimit(cfg.Resources) {
		debug.FreeOSMemory()
	}
	// Hold the start FIFO open before saying ready: Start's non-blocking
	// open then finds a reader.
	fifo, err := os.OpenFile(filepath.Join(dir, StartFifo), os.O_RDWR, 0)
	if err != nil {
		report(fmt.Errorf("runner: start fifo: %w", err))
		return 1
	}
	report(nil)
	if _, err := fifo.Read(make([]byte, 1)); err != nil {
		return 1
	}
	fifo.Close()
	return run(ctx, r, mod, &cfg)
}

// hasMemoryLimit tells whether the runner's cgroup gets a memory limit.
func hasMemoryLimit(r *specs.LinuxResources) bool {
	return r != nil && r.Memory != nil && r.Memory.Limit != nil && *r.Memory.Limit > 0
}

// dieOnSignals gives the runner the default disposition of a process that
// handles no signal (a module cannot): a signal whose default action ends a
// process ends it, killed by that signal, where Go's runtime would exit
// with a stack dump (SIGQUIT) or ignore it (SIGUSR1). SIGPIPE stays Go's.
func dieOnSignals() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGABRT, unix.SIGUSR1, unix.SIGUSR2,
		unix.SIGALRM, unix.SIGTERM, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGVTALRM, unix.SIGSTKFLT, unix.SIGPWR)
	sig := (<-ch).(syscall.Signal)
	// Go's runtime keeps its own handler after signal.Reset: restore the
	// kernel's default (a zeroed struct sigaction is SIG_DFL, empty mask,
	// on amd64 and arm64), then send the signal again.
	var dfl [4]uint64
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0); e != 0 {
		os.Exit(128 + int(sig))
	}
	_ = unix.Kill(os.Getpid(), sig)
	time.Sleep(time.Second)
	os.Exit(128 + int(sig))
}

// dropPrivileges empties the bounding, ambient, effective, permitted and
// inheritable capability sets of every thread and sets no_new_privs.
func dropPrivileges() error {
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_GET_NO_NEW_PRIVS, 0, 0); e == unix.ENOTSUP {
		return errors.New("this binary links cgo, so capabilities cannot be dropped from every thread: build rtd-driver-wasm with CGO_ENABLED=0 (make build does)")
	}
	for c := 0; c <= unix.CAP_LAST_CAP; c++ {
		if _, _, e := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0); e != 0 && e != unix.EINVAL {
			return fmt.Errorf("bounding set (%d): %w", c, e)
		}
	}
	if _, _, e := syscall.AllThreadsSyscall6(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0); e != 0 {
		return fmt.Errorf("ambient set: %w", e)
	}
	if _, _, e := syscall.AllThreadsSyscall6(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0); e != 0 {
		return fmt.Errorf("no_new_privs: %w", e)
	}
	capHeader.Version = unix.LINUX_CAPABILITY_VERSION_3
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&capHeader)), uintptr(unsafe.Pointer(&capData[0])), 0); e != 0 {
		return fmt.Errorf("capset: %w", e)
	}
	return nil
}

// capset's arguments, in static storage (they must not move during the
// call): the data is all zero, no capability at all.
var (
	capHeader unix.CapUserHeader
	capData   [2]unix.CapUserData
)

// prepare compiles the module through the compilation cache and checks
// that it imports nothing but WASI preview 1.
func prepare(ctx context.Context, cfg *Config) (wazero.Runtime, wazero.CompiledModule, error) {
	bin, err := os.ReadFile(cfg.Module)
	if err != nil {
		return nil, nil, invalidArgumentf("create %s: read module %s: %v", cfg.ID, cfg.Guest, err)
	}
	rc := wazero.NewRuntimeConfig().WithCloseOnContextDone(true)
	if cache, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir); err == nil {
		rc = rc.WithCompilationCache(cache)
	}
	if cfg.MemoryPages > 0 {
		// The linear memory is capped by limitedMemory (run); keep the
		// runtime's own heap within the overhead the cgroup grants it, so
		// that the module, not the kernel's OOM killer, meets the limit.
		debug.SetMemoryLimit(int64(cfg.MemoryPages)*PageSize + Overhead/2)
	}
	r := wazero.NewRuntimeWithConfig(ctx, rc)
	mod, err := r.CompileModule(ctx, bin)
	if err != nil {
		return nil, nil, invalidArgumentf("create %s: module %s does not compile: %v", cfg.ID, cfg.Guest, err)
	}
	for _, f := range mod.ImportedFunctions() {
		if m, name, _ := f.Import(); m != wasiModule {
			return nil, nil, notImplementedf("create %s: module %s imports %s.%s: the wasm driver provides only WASI preview 1 (%s)", cfg.ID, cfg.Guest, m, name, wasiModule)
		}
	}
	if err := checkMinMemory(cfg, mod); err != nil {
		return nil, nil, err
	}
	if cfg.Export != "" {
		if _, ok := mod.ExportedFunctions()[cfg.Export]; !ok {
			return nil, nil, invalidArgumentf("create %s: module %s exports no function %q", cfg.ID, cfg.Guest, cfg.Export)
		}
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		return nil, nil, fmt.Errorf("create %s: wasi: %w", cfg.ID, err)
	}
	return r, mod, nil
}

// run instantiates the module, which runs _start (or calls the export),
// and returns its exit code.
func run(ctx context.Context, r wazero.Runtime, mod wazero.CompiledModule, cfg *Config) int {
	fsc := wazero.NewFSConfig()
	for _, p := range cfg.Preopens {
		if p.ReadOnly {
			fsc = mountReadOnly(fsc, p.Host, p.Guest)
		} else {
			fsc = fsc.WithDirMount(p.Host, p.Guest)
		}
	}
	mc := wazero.NewModuleConfig().
		WithName(filepath.Base(cfg.Guest)).
		WithArgs(cfg.Args...).
		WithStdin(os.Stdin).WithStdout(os.Stdout).WithStderr(os.Stderr).
		WithFSConfig(fsc).
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().
		WithRandSource(rand.Reader)
	for _, kv := range cfg.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			mc = mc.WithEnv(k, v)
		}
	}
	if cfg.Export != "" {
		mc = mc.WithStartFunctions() // the export is called below instead
	}
	if cfg.MemoryPages > 0 {
		ctx = experimental.WithMemoryAllocator(ctx, memoryAllocator(uint64(cfg.MemoryPages)*PageSize, cfg.Guest, os.Stderr))
	}
	m, err := r.InstantiateModule(ctx, mod, mc)
	if err == nil && cfg.Export != "" {
		_, err = m.ExportedFunction(cfg.Export).Call(ctx)
	}
	var exit *sys.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return int(exit.ExitCode())
	}
	fmt.Fprintf(os.Stderr, "rtd-wasm: %s: module trapped: %s\n", cfg.Guest, strings.SplitN(err.Error(), "\n", 2)[0])
	return trapExitCode
}
