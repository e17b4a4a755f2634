package ocispec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ConfigName is the file name of a bundle's spec.
const ConfigName = "config.json"

// Load reads BUNDLE/config.json; see LoadFile.
func Load(bundle string) (*specs.Spec, error) {
	if bundle == "" {
		return nil, invalidf("no bundle given: want a directory holding %s", ConfigName)
	}
	return LoadFile(filepath.Join(bundle, ConfigName))
}

// LoadFile reads an OCI spec. Every failure is errdefs.ErrInvalidArgument
// with a message naming the file: a missing file, malformed JSON or JSON of
// the wrong shape (with the line and column), data after the top-level
// object, and a spec without a process.
func LoadFile(path string) (*specs.Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, invalidf("%s: no such file: a bundle must hold %s", path, ConfigName)
		}
		return nil, invalidf("read %s: %v", path, err)
	}
	var spec specs.Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&spec); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			line, col := lineColumn(data, syn.Offset)
			return nil, invalidf("%s: malformed JSON at line %d, column %d: %v", path, line, col, err)
		case errors.As(err, &typ):
			line, col := lineColumn(data, typ.Offset)
			return nil, invalidf("%s: invalid spec at line %d, column %d: %v", path, line, col, err)
		case errors.Is(err, io.EOF):
			return nil, invalidf("%s: malformed JSON: the file is empty", path)
		}
		return nil, invalidf("%s: malformed JSON: %v", path, err)
	}
	if dec.More() {
		line, col := lineColumn(data, dec.InputOffset())
		return nil, invalidf("%s: malformed JSON at line %d, column %d: data after the top-level object", path, line, col)
	}
	if spec.Process == nil {
		return nil, invalidf("%s: the spec has no process", path)
	}
	return &spec, nil
}

// RootfsPath returns the absolute root.path of spec in bundle: root.path
// itself when absolute, else joined to bundle ("rootfs" when unset).
func RootfsPath(bundle string, spec *specs.Spec) string {
	if spec.Root == nil || spec.Root.Path == "" {
		return filepath.Join(bundle, "rootfs")
	}
	if filepath.IsAbs(spec.Root.Path) {
		return spec.Root.Path
	}
	return filepath.Join(bundle, spec.Root.Path)
}

// invalidf is driver.InvalidArgumentf without importing the driver SDK.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errdefs.ErrInvalidArgument)
}

// lineColumn converts a byte offset into a 1-based line and column. JSON
// errors report the offset after the offending byte.
func lineColumn(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	line, col = 1, 1
	for _, b := range data[:max(offset-1, 0)] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// FindExecutable resolves the process's executable (args[0]) inside rootfs
// the way the runtime will: a path with a slash is taken as it is (relative
// to cwd), a bare name is looked up in the PATH of the process's env. It
// returns the path inside the container; errdefs.ErrNotFound naming what is
// missing; or, as execvp's EACCES, errdefs.ErrPermissionDenied when what was
// found is a directory or a file without an execute bit (docker: exit 126,
// not 127). A driver calls it at Create when its runtime reports such
// failures only on the container's own stderr (runc, runsc).
func FindExecutable(rootfs string, p *specs.Process) (string, error) {
	if p == nil || len(p.Args) == 0 {
		return "", invalidf("the spec's process has no args")
	}
	name := p.Args[0]
	candidates := []string{name}
	if !strings.Contains(name, "/") {
		candidates = nil
		path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		for _, e := range p.Env {
			if v, ok := strings.CutPrefix(e, "PATH="); ok {
				path = v
			}
		}
		for _, dir := range filepath.SplitList(path) {
			candidates = append(candidates, filepath.Join(dir, name))
		}
	} else if !filepath.IsAbs(name) {
		candidates = []string{filepath.Join("/", p.Cwd, name)}
	}
	denied := ""
	for _, c := range candidates {
		// Lstat: an absolute symlink points into the container, not the host.
		fi, err := os.Lstat(filepath.Join(rootfs, c))
		switch {
		case err != nil:
			continue
		case fi.Mode()&os.ModeSymlink != 0, fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0:
			return c, nil
		case denied == "":
			denied = c // a directory or a file that cannot be executed
		}
	}
	if denied != "" {
		return "", fmt.Errorf("%q in the root filesystem %s cannot be executed (a directory, or no execute permission): %w", denied, rootfs, errdefs.ErrPermissionDenied)
	}
	return "", fmt.Errorf("executable %q not found in the root filesystem %s: %w", name, rootfs, errdefs.ErrNotFound)
}

// Check checks what every driver needs of a loaded bundle before it runs
// it: process.args is not empty and the root filesystem (RootfsPath) is a
// directory other than the host's root (CheckRootfs). It returns the
// absolute rootfs path; every failure is errdefs.ErrInvalidArgument.
func Check(bundle string, spec *specs.Spec) (string, error) {
	if spec.Process == nil || len(spec.Process.Args) == 0 {
		return "", invalidf("bundle %s: %s has no process args", bundle, ConfigName)
	}
	rootfs := RootfsPath(bundle, spec)
	if fi, err := os.Stat(rootfs); err != nil || !fi.IsDir() {
		return "", invalidf("rootfs %s: not a directory", rootfs)
	}
	if msg := CheckRootfs(rootfs); msg != "" {
		return "", invalidf("%s", msg)
	}
	return rootfs, nil
}
