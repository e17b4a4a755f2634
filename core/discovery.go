package core

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/rtd-project/rtd/driver"
)

// DriverPrefix starts the file name of every driver executable.
const DriverPrefix = "rtd-driver-"

// SystemDriverDir is the system-wide directory of driver executables.
const SystemDriverDir = "/usr/libexec/rtd/drivers"

// DriverPathEnv names the colon-separated list of extra driver directories.
const DriverPathEnv = "RTD_DRIVER_PATH"

// DriverBinary is a driver executable found on the search path.
type DriverBinary struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// DefaultSearchPath is where drivers are looked for, in order: the directory
// of the running rtd binary, SystemDriverDir, then each directory of
// $RTD_DRIVER_PATH.
func DefaultSearchPath() []string {
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		dirs = append(dirs, filepath.Dir(exe))
	}
	dirs = append(dirs, SystemDriverDir)
	for _, d := range filepath.SplitList(os.Getenv(DriverPathEnv)) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// driverFileName is the executable name of driver name on this OS.
func driverFileName(name string) string {
	if runtime.GOOS == "windows" {
		return DriverPrefix + name + ".exe"
	}
	return DriverPrefix + name
}

// isExecutable reports whether path is a regular file we may run.
func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	return runtime.GOOS == "windows" || fi.Mode().Perm()&0o111 != 0
}

// DriverNameOf is the driver name of an executable path: its base name
// without the "rtd-driver-" prefix (and ".exe").
func DriverNameOf(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), ".exe")
	return strings.TrimPrefix(base, DriverPrefix)
}

// FindDriver resolves a driver name, or a path (anything containing a path
// separator), to an executable. The first directory of dirs holding
// rtd-driver-NAME wins. An unknown driver is NotFound and names the
// directories searched.
func FindDriver(nameOrPath string, dirs []string) (DriverBinary, error) {
	if nameOrPath == "" {
		return DriverBinary{}, driver.InvalidArgumentf("empty driver name")
	}
	if strings.ContainsAny(nameOrPath, `/\`) {
		abs, err := filepath.Abs(nameOrPath)
		if err != nil {
			return DriverBinary{}, driver.InvalidArgumentf("driver %q: %v", nameOrPath, err)
		}
		if !isExecutable(abs) {
			return DriverBinary{}, driver.NotFoundf("driver %q: no executable file at %s", nameOrPath, abs)
		}
		return DriverBinary{Name: DriverNameOf(abs), Path: abs}, nil
	}
	for _, d := range dirs {
		p := filepath.Join(d, driverFileName(nameOrPath))
		if isExecutable(p) {
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
			return DriverBinary{Name: nameOrPath, Path: p}, nil
		}
	}
	return DriverBinary{}, driver.NotFoundf("driver %q not found (searched: %s)", nameOrPath, strings.Join(dirs, ", "))
}

// ListDrivers returns every driver found in dirs, sorted by name; a name
// found in several directories is listed once, from the first.
func ListDrivers(dirs []string) []DriverBinary {
	seen := map[string]bool{}
	var out []DriverBinary
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), DriverPrefix) {
				continue
			}
			name := DriverNameOf(e.Name())
			if name == "" || seen[name] || e.Name() != driverFileName(name) {
				continue
			}
			p := filepath.Join(d, e.Name())
			if !isExecutable(p) {
				continue
			}
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
			seen[name] = true
			out = append(out, DriverBinary{Name: name, Path: p})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
