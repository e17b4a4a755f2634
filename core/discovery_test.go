package core

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

// writeDriverFile writes an executable file named like driver name into dir.
func writeDriverFile(t *testing.T, dir, name string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, driverFileName(name))
	if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 1\n"), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFindDriverOrder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("executable bits")
	}
	tmp := t.TempDir()
	a, b, c := filepath.Join(tmp, "a"), filepath.Join(tmp, "b"), filepath.Join(tmp, "c")
	writeDriverFile(t, a, "notexec", 0o644)
	writeDriverFile(t, b, "linux", 0o755)
	writeDriverFile(t, c, "linux", 0o755)
	writeDriverFile(t, c, "notexec", 0o755)
	dirs := []string{a, b, c}

	bin, err := FindDriver("linux", dirs)
	if err != nil || bin.Path != filepath.Join(b, "rtd-driver-linux") || bin.Name != "linux" {
		t.Fatalf("FindDriver(linux) = %+v, %v; want the one in b (first hit)", bin, err)
	}
	bin, err = FindDriver("notexec", dirs)
	if err != nil || bin.Path != filepath.Join(c, "rtd-driver-notexec") {
		t.Fatalf("FindDriver(notexec) = %+v, %v; want c's (a's is not executable)", bin, err)
	}

	_, err = FindDriver("foo", dirs)
	if !errdefs.IsNotFound(err) {
		t.Fatalf("FindDriver(foo) = %v, want NotFound", err)
	}
	want := `driver "foo" not found (searched: ` + a + ", " + b + ", " + c + ")"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("FindDriver(foo) = %q, want it to contain %q", err, want)
	}

	list := ListDrivers(dirs)
	if len(list) != 2 || list[0].Name != "linux" || list[0].Path != filepath.Join(b, "rtd-driver-linux") ||
		list[1].Name != "notexec" || list[1].Path != filepath.Join(c, "rtd-driver-notexec") {
		t.Fatalf("ListDrivers = %+v", list)
	}
}

func TestFindDriverByPath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("executable bits")
	}
	dir := t.TempDir()
	p := writeDriverFile(t, dir, "custom", 0o755)
	bin, err := FindDriver(p, nil)
	if err != nil || bin.Path != p || bin.Name != "custom" {
		t.Fatalf("FindDriver(%s) = %+v, %v", p, bin, err)
	}
	if _, err := FindDriver(filepath.Join(dir, "missing"), nil); !errdefs.IsNotFound(err) {
		t.Fatalf("FindDriver(missing path) = %v, want NotFound", err)
	}
	if _, err := FindDriver("", nil); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("FindDriver(\"\") = %v, want InvalidArgument", err)
	}
}

func TestDefaultSearchPath(t *testing.T) {
	t.Setenv(DriverPathEnv, "/x/one"+string(filepath.ListSeparator)+string(filepath.ListSeparator)+"/x/two")
	dirs := DefaultSearchPath()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe, _ = filepath.EvalSymlinks(exe)
	want := []string{filepath.Dir(exe), SystemDriverDir, "/x/one", "/x/two"}
	if strings.Join(dirs, "|") != strings.Join(want, "|") {
		t.Fatalf("DefaultSearchPath() = %v, want %v", dirs, want)
	}
}
