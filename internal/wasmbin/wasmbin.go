package wasmbin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// Kind is what a program file is.
type Kind string

// Kinds of program files.
const (
	// Module is a WebAssembly core module (binary format version 1): what
	// WASI preview 1 runs.
	Module Kind = "wasm module"
	// Component is a WebAssembly component (the component model, WASI
	// preview 2): same magic, another version/layer field.
	Component Kind = "wasm component"
	// ELF is a native executable.
	ELF Kind = "ELF executable"
	// Script starts with "#!".
	Script Kind = "script"
	// Other is anything else.
	Other Kind = "unknown file"
)

// Magic is the first four bytes of every WebAssembly binary.
const Magic = "\x00asm"

// Classify reads the header of r.
func Classify(r io.Reader) Kind {
	var h [8]byte
	n, _ := io.ReadFull(r, h[:])
	b := h[:n]
	switch {
	case bytes.HasPrefix(b, []byte(Magic)) && n == 8 && bytes.Equal(b[4:], []byte{1, 0, 0, 0}):
		return Module
	case bytes.HasPrefix(b, []byte(Magic)) && n == 8 && b[6] == 1 && b[7] == 0:
		// Component model: version 0x0d (pre-1.0 drafts vary) and layer 1.
		return Component
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return ELF
	case bytes.HasPrefix(b, []byte("#!")):
		return Script
	}
	return Other
}

// Program is process.args[0] found in a root filesystem.
type Program struct {
	// Guest is the path inside the root filesystem.
	Guest string
	// Host is the path on the host (inside rootfs, symlinks resolved there).
	Host string
	// Export is the function named after '#' (runwasi's "path#export"), ""
	// for _start.
	Export string
	Kind   Kind
}

// Find resolves arg0 of a process (with an optional "#export" suffix)
// inside rootfs: an absolute path as is, a relative one against cwd when it
// holds a slash, else through the PATH of env. Symlinks resolve inside the
// root. A missing file is an error wrapping os.ErrNotExist.
func Find(rootfs, arg0, cwd string, env []string) (*Program, error) {
	name, export, _ := strings.Cut(arg0, "#")
	if name == "" {
		return nil, fmt.Errorf("empty program name: %w", os.ErrNotExist)
	}
	var candidates []string
	switch {
	case path.IsAbs(name):
		candidates = []string{name}
	case strings.Contains(name, "/"):
		if cwd == "" {
			cwd = "/"
		}
		candidates = []string{path.Join(cwd, name)}
	default:
		for _, dir := range strings.Split(pathOf(env), ":") {
			if dir != "" {
				candidates = append(candidates, path.Join(dir, name))
			}
		}
		// A bare module name in the working directory, as runwasi allows.
		candidates = append(candidates, path.Join("/", cwd, name))
	}
	for _, guest := range candidates {
		host, err := securejoin.SecureJoin(rootfs, guest)
		if err != nil {
			continue
		}
		f, err := os.Open(host)
		if err != nil {
			continue
		}
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			f.Close()
			continue
		}
		kind := Classify(f)
		f.Close()
		return &Program{Guest: path.Clean(guest), Host: host, Export: export, Kind: kind}, nil
	}
	return nil, fmt.Errorf("%s: not found in the root filesystem: %w", name, os.ErrNotExist)
}

func pathOf(env []string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], "PATH="); ok {
			return v
		}
	}
	return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

// IsNotExist reports whether err says the program is missing.
func IsNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
