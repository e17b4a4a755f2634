package runner

import (
	"fmt"
	"io"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"golang.org/x/sys/unix"
)

// limitedMemory backs a module's linear memory when the container has a
// memory limit: the whole limit is reserved at once (untouched pages cost
// nothing; the memory never moves, so growing it never needs twice the
// memory), and a memory.grow past the limit is refused (the module sees
// -1, as at its declared maximum) with one line on the module's stderr
// saying which limit it met: the reason is there whatever the module's
// language does next (Go's runtime prints "out of memory", Rust's aborts
// with a trap, C's malloc returns NULL).
type limitedMemory struct {
	limit  uint64
	guest  string
	stderr io.Writer
	buf    []byte
	once   sync.Once
}

// memoryAllocator gives each memory of the module a limitedMemory of limit
// bytes.
func memoryAllocator(limit uint64, guest string, stderr io.Writer) experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(_, _ uint64) experimental.LinearMemory {
		return &limitedMemory{limit: limit, guest: guest, stderr: stderr}
	})
}

// Reallocate implements experimental.LinearMemory.
func (m *limitedMemory) Reallocate(size uint64) []byte {
	if size > m.limit {
		m.once.Do(func() {
			fmt.Fprintf(m.stderr, "rtd-wasm: %s: memory limit reached: growing the linear memory to %d MiB refused, the container's limit is %d MiB (linux.resources.memory.limit)\n",
				m.guest, size>>20, m.limit>>20)
		})
		return nil
	}
	if m.buf == nil {
		b, err := unix.Mmap(-1, 0, int(m.limit), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
		if err != nil {
			fmt.Fprintf(m.stderr, "rtd-wasm: %s: reserve %d MiB of linear memory: %v\n", m.guest, m.limit>>20, err)
			return nil
		}
		m.buf = b
	}
	return m.buf[:size]
}

// Free implements experimental.LinearMemory.
func (m *limitedMemory) Free() {
	if m.buf != nil {
		_ = unix.Munmap(m.buf)
		m.buf = nil
	}
}

// checkMinMemory refuses, at Create, a module whose memory starts larger
// than the container's memory limit.
func checkMinMemory(cfg *Config, mod wazero.CompiledModule) error {
	if cfg.MemoryPages == 0 {
		return nil
	}
	mems := mod.ImportedMemories()
	for _, m := range mod.ExportedMemories() {
		mems = append(mems, m)
	}
	for _, m := range mems {
		if m.Min() > cfg.MemoryPages {
			return minMemoryError(cfg, m)
		}
	}
	return nil
}

func minMemoryError(cfg *Config, m api.MemoryDefinition) error {
	return invalidArgumentf("create %s: module %s needs %d MiB of linear memory at start, over the container's memory limit of %d MiB: raise the limit",
		cfg.ID, cfg.Guest, uint64(m.Min())*PageSize>>20, uint64(cfg.MemoryPages)*PageSize>>20)
}
