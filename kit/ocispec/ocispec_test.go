package ocispec_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/kit/ocispec"
)

func TestLoadErrorsAreInvalidArgumentNamingFileAndPlace(t *testing.T) {
	for name, tc := range map[string]struct{ config, where string }{
		"syntax":     {"{\n  \"ociVersion\": \"1.0.2\",\n  \"process\": {,\n}\n", "line 3, column 15"},
		"type":       {"{\n  \"process\": 5\n}\n", "line 2, column"},
		"empty":      {"", "empty"},
		"trailing":   {"{\"process\": {\"args\": [\"sh\"]}} {}", "data after the top-level object"},
		"no process": {"{\"ociVersion\": \"1.0.2\"}", "no process"},
		"missing":    {"", "no such file"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if name != "missing" {
				if err := os.WriteFile(filepath.Join(dir, ocispec.ConfigName), []byte(tc.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := ocispec.Load(dir)
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("Load = %v, want InvalidArgument", err)
			}
			for _, s := range []string{filepath.Join(dir, ocispec.ConfigName), tc.where} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
	if _, err := ocispec.Load(""); !errdefs.IsInvalidArgument(err) {
		t.Errorf("Load(\"\") = %v, want InvalidArgument", err)
	}
}

func TestRootfsPath(t *testing.T) {
	for _, tc := range []struct{ root, want string }{
		{"", "/b/rootfs"}, {"rfs", "/b/rfs"}, {"/abs/root", "/abs/root"},
	} {
		s := ocispec.Default(tc.root, []string{"true"})
		if tc.root == "" {
			s.Root = nil
		}
		if got := ocispec.RootfsPath("/b", s); got != tc.want {
			t.Errorf("RootfsPath(root.path %q) = %q, want %q", tc.root, got, tc.want)
		}
	}
}

// A bundle is a directory holding config.json; Default gives the spec rtd
// runs a root filesystem with, and Load reads it back.
func Example() {
	bundle, _ := os.MkdirTemp("", "bundle")
	defer os.RemoveAll(bundle)

	spec := ocispec.Default("rootfs", []string{"/bin/echo", "hello"})
	data, _ := json.Marshal(spec)
	_ = os.WriteFile(filepath.Join(bundle, ocispec.ConfigName), data, 0o600)

	back, err := ocispec.Load(bundle)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(back.Process.Args, back.Hostname)
	fmt.Println(ocispec.RootfsPath(bundle, back) == filepath.Join(bundle, "rootfs"))
	// Output:
	// [/bin/echo hello] rtd
	// true
}

// A malformed config.json is one InvalidArgument error naming the file and
// the place.
func ExampleLoad_malformed() {
	bundle, _ := os.MkdirTemp("", "bundle")
	defer os.RemoveAll(bundle)
	_ = os.WriteFile(filepath.Join(bundle, ocispec.ConfigName), []byte("{\n  \"process\": {,\n}"), 0o600)

	_, err := ocispec.Load(bundle)
	fmt.Println(errdefs.IsInvalidArgument(err))
	fmt.Println(strings.TrimPrefix(err.Error(), bundle+"/"))
	// Output:
	// true
	// config.json: malformed JSON at line 2, column 15: invalid character ',' looking for beginning of object key string: invalid argument
}

func TestFindExecutable(t *testing.T) {
	rootfs := t.TempDir()
	for f, mode := range map[string]os.FileMode{"bin/sh": 0o755, "opt/app/run": 0o755, "opt/data/run": 0o644, "opt/app/data": 0o644} {
		if err := os.MkdirAll(filepath.Join(rootfs, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(rootfs, f), nil, mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		args []string
		env  []string
		cwd  string
		want string
	}{
		{[]string{"sh"}, nil, "/", "/bin/sh"},
		{[]string{"/bin/sh", "-c"}, nil, "/", "/bin/sh"},
		{[]string{"run"}, []string{"PATH=/opt/app"}, "/", "/opt/app/run"},
		{[]string{"./run"}, nil, "/opt/app", "/opt/app/run"},
		// As execvp: a match that cannot be executed does not end the search.
		{[]string{"run"}, []string{"PATH=/opt/data:/opt/app"}, "/", "/opt/app/run"},
	} {
		got, err := ocispec.FindExecutable(rootfs, &specs.Process{Args: tc.args, Env: tc.env, Cwd: tc.cwd})
		if err != nil || got != tc.want {
			t.Errorf("FindExecutable(%v) = %q, %v; want %q", tc.args, got, err, tc.want)
		}
	}
	for _, args := range [][]string{{"/nope"}, {"nope"}, {"run"}, {"bin"}} {
		if _, err := ocispec.FindExecutable(rootfs, &specs.Process{Args: args}); !errdefs.IsNotFound(err) {
			t.Errorf("FindExecutable(%v) = %v, want NotFound", args, err)
		}
	}
	// Found but not runnable: docker's 126, not 127.
	for _, p := range []*specs.Process{{Args: []string{"/bin"}}, {Args: []string{"/opt/app/data"}}, {Args: []string{"data"}, Env: []string{"PATH=/opt/app"}}} {
		if _, err := ocispec.FindExecutable(rootfs, p); !errdefs.IsPermissionDenied(err) {
			t.Errorf("FindExecutable(%v) = %v, want PermissionDenied", p.Args, err)
		}
	}
}
