//go:build linux

package rtdshim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// RootDir holds one core root per shim process: the drivers' state, the
// containers' monitors and the drivers' sockets. Short on purpose: unix
// socket paths under it are limited to 108 bytes.
const RootDir = "/run/rtd/containerd"

// RootEnv overrides RootDir (tests).
const RootEnv = "RTD_SHIM_ROOT"

// recordFile, in a container's bundle, says where the shim keeps the
// container, so that `containerd-shim-rtd-v2 delete` (containerd's cleanup
// after the shim died) finds it.
const recordFile = "rtd-shim.json"

type bundleRecord struct {
	Root       string `json:"root"`
	Driver     string `json:"driver"`
	DriverPath string `json:"driver_path"`
	// Rootfs is the directory the shim mounted the rootfs on, "" for none.
	Rootfs string `json:"rootfs,omitempty"`
	// Sandbox is the driver sandbox this container created (a CRI pod's
	// pause container with pods = "sandbox"): the cleanup removes it too.
	Sandbox string `json:"sandbox,omitempty"`
}

func rootDir() string {
	if d := os.Getenv(RootEnv); d != "" {
		return d
	}
	return RootDir
}

// newShimRoot makes a fresh core root for this shim process.
func newShimRoot(ns string) (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	root := filepath.Join(rootDir(), ns+"-"+hex.EncodeToString(b))
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", fmt.Errorf("rtd shim: make root %s: %w", root, err)
	}
	return root, nil
}

func removeShimRoot(root string) {
	os.RemoveAll(root)
	os.Remove(filepath.Dir(root)) // only when empty
}

func writeBundleRecord(bundle string, rec bundleRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(bundle, recordFile), data, 0o600)
}

func readBundleRecord(bundle string) (*bundleRecord, error) {
	data, err := os.ReadFile(filepath.Join(bundle, recordFile))
	if err != nil {
		return nil, err
	}
	var rec bundleRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("%s: %w", recordFile, err)
	}
	return &rec, nil
}

func removeBundleRecord(bundle string) { os.Remove(filepath.Join(bundle, recordFile)) }

// specAnnotations reads the annotations of the bundle's config.json.
func specAnnotations(bundle string) (map[string]string, error) {
	spec, err := ocispec.LoadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	return spec.Annotations, nil
}

// searchPath is where the shim looks for drivers: extra first, then the
// core's default (the shim's own directory, /usr/libexec/rtd/drivers,
// $RTD_DRIVER_PATH).
func searchPath(extra []string) []string {
	return append(append([]string(nil), extra...), core.DefaultSearchPath()...)
}

// coreWithPath is a core on the same root searching extra directories
// first (the driver_path option).
func (s *service) coreWithPath(extra []string) *core.Core {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.Join(extra, "\x00")
	if c, ok := s.pathCores[key]; ok {
		return c
	}
	c := core.New(core.Options{Root: s.root, SearchPath: searchPath(extra), Logger: s.core.Logger()})
	s.pathCores[key] = c
	return c
}

// stdioOf turns containerd's stream names (FIFO paths or file:// URIs)
// into the host paths the driver contract takes.
func stdioOf(id, stdin, stdout, stderr string, terminal bool) (stdio, driver.Stdio, error) {
	io := stdio{Stdin: stdin, Stdout: stdout, Stderr: stderr, Terminal: terminal}
	d := driver.Stdio{Terminal: terminal}
	for _, f := range []struct {
		in  string
		out *string
	}{{stdin, &d.Stdin}, {stdout, &d.Stdout}, {stderr, &d.Stderr}} {
		p, err := hostPath(f.in)
		if err != nil {
			return io, d, driver.InvalidArgumentf("%s: %v", id, err)
		}
		*f.out = p
	}
	if terminal {
		d.Stderr = ""
	}
	return io, d, nil
}

func hostPath(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return s, nil
	}
	switch u.Scheme {
	case "fifo", "file":
		return u.Path, nil
	}
	return "", fmt.Errorf("stdio %q: the %s:// scheme is not supported by the rtd shim (use FIFOs or file://)", s, u.Scheme)
}
