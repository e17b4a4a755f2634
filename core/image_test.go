package core

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/kit/ocispec"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestResolveImageMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := ResolveImage(missing, "")
	if !errdefs.IsNotFound(err) {
		t.Fatalf("ResolveImage(missing) = %v, want NotFound", err)
	}
	want := `image "` + missing + `": no such file or directory (want "hello", an image name, an OCI bundle dir or a root filesystem dir)`
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("ResolveImage(missing) = %q, want %q", err, want)
	}
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, "x")
	if _, err := ResolveImage(file, ""); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("ResolveImage(file) = %v, want InvalidArgument", err)
	}
	if _, err := ResolveImage("", ""); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("ResolveImage(\"\") = %v, want InvalidArgument", err)
	}
}

func TestResolveImageMalformedBundle(t *testing.T) {
	for name, tc := range map[string]struct{ config, where string }{
		"syntax":   {"{\n  \"ociVersion\": \"1.0.2\",\n  \"process\": {,\n}\n", "line 3, column 15"},
		"type":     {"{\n  \"process\": 5\n}\n", "line 2, column"},
		"empty":    {"", "empty"},
		"trailing": {"{\"process\": {\"args\": [\"sh\"]}} {}", "data after the top-level object"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "config.json"), tc.config)
			_, err := ResolveImage(dir, "")
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("ResolveImage = %v, want InvalidArgument", err)
			}
			for _, s := range []string{filepath.Join(dir, "config.json"), tc.where} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestBundleImage(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.json"), `{
  "ociVersion": "1.0.2",
  "process": {"args": ["/bin/app", "-v"], "env": ["PATH=/bin", "A=1"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
  "root": {"path": "rfs"},
  "hostname": "fromspec",
  "linux": {"namespaces": [{"type": "pid"}, {"type": "uts"}, {"type": "mount"}]}
}`)
	writeFile(t, filepath.Join(dir, "rfs", "etc", "passwd"), "root:x:0:0::/root:/bin/sh\nalice:x:1000:1001::/home/alice:/bin/sh\n")
	writeFile(t, filepath.Join(dir, "rfs", "etc", "group"), "root:x:0:\nstaff:x:50:\n")
	img, err := ResolveImage(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if img.Kind != KindBundle || img.Spec.Root.Path != filepath.Join(dir, "rfs") {
		t.Fatalf("image = %+v, root %q; want a bundle with an absolute root", img, img.Spec.Root.Path)
	}
	spec, err := BuildSpec(img, "c1", "/unused", SpecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(spec.Process.Args, []string{"/bin/app", "-v"}) || spec.Hostname != "fromspec" {
		t.Fatalf("without overrides the bundle's spec changed: %+v", spec.Process)
	}

	img, _ = ResolveImage(dir, "")
	spec, err = BuildSpec(img, "c1", "/unused", SpecOptions{
		Args: []string{"sh", "-c", "true"}, Env: []string{"A=2", "B=3"}, Cwd: "/tmp", User: "alice:staff",
		ReadOnly: true, Terminal: true, Memory: 64 << 20, PidsLimit: 10, Hostname: "h",
		Labels: map[string]string{"trust": "low"},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := spec.Process
	if !slices.Equal(p.Args, []string{"sh", "-c", "true"}) {
		t.Errorf("args = %v", p.Args)
	}
	if !slices.Equal(p.Env, []string{"PATH=/bin", "A=2", "B=3", "TERM=xterm"}) {
		t.Errorf("env = %v", p.Env)
	}
	if p.Cwd != "/tmp" || p.User.UID != 1000 || p.User.GID != 50 || !p.Terminal {
		t.Errorf("process = %+v", p)
	}
	if !spec.Root.Readonly || spec.Hostname != "h" {
		t.Errorf("root = %+v, hostname %q", spec.Root, spec.Hostname)
	}
	r := spec.Linux.Resources
	if r == nil || r.Memory == nil || *r.Memory.Limit != 64<<20 || r.Pids == nil || *r.Pids.Limit != 10 {
		t.Errorf("resources = %+v", r)
	}
	if spec.Annotations["rtd.label.trust"] != "low" {
		t.Errorf("annotations = %v", spec.Annotations)
	}
}

func TestBundleMissingRoot(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.json"), `{"process": {"args": ["sh"]}}`)
	if _, err := ResolveImage(dir, ""); !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), filepath.Join(dir, "rootfs")) {
		t.Fatalf("ResolveImage(bundle without rootfs) = %v, want NotFound naming %s", err, filepath.Join(dir, "rootfs"))
	}
}

func TestRootfsImage(t *testing.T) {
	dir := t.TempDir()
	img, err := ResolveImage(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if img.Kind != KindRootfs || img.Dir != dir {
		t.Fatalf("image = %+v", img)
	}
	id := "0123456789abcdef"
	spec, err := BuildSpec(img, id, "/b", SpecOptions{User: "7"})
	if err != nil {
		t.Fatal(err)
	}
	if spec.Root.Path != dir || spec.Root.Readonly || spec.Hostname != id[:12] {
		t.Errorf("root %+v hostname %q", spec.Root, spec.Hostname)
	}
	p := spec.Process
	if !slices.Equal(p.Args, []string{"sh"}) || !p.NoNewPrivileges || p.User.UID != 7 || p.User.GID != 0 {
		t.Errorf("process = %+v", p)
	}
	if !slices.Equal(p.Env, ocispec.DefaultEnv) {
		t.Errorf("env = %v", p.Env)
	}
	if len(p.Rlimits) != 1 || p.Rlimits[0].Type != "RLIMIT_NOFILE" || p.Rlimits[0].Hard != 1024 {
		t.Errorf("rlimits = %v", p.Rlimits)
	}
	if len(p.Capabilities.Bounding) != 14 || !slices.Contains(p.Capabilities.Effective, "CAP_NET_BIND_SERVICE") ||
		slices.Contains(p.Capabilities.Bounding, "CAP_SYS_ADMIN") {
		t.Errorf("capabilities = %v", p.Capabilities.Bounding)
	}
	var ns []string
	for _, n := range spec.Linux.Namespaces {
		ns = append(ns, string(n.Type))
	}
	slices.Sort(ns)
	if !slices.Equal(ns, []string{"ipc", "mount", "network", "pid", "uts"}) {
		t.Errorf("namespaces = %v", ns)
	}
	mounts := map[string]specs.Mount{}
	for _, m := range spec.Mounts {
		mounts[m.Destination] = m
	}
	for _, d := range []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"} {
		if _, ok := mounts[d]; !ok {
			t.Errorf("no mount at %s", d)
		}
	}
	if !slices.Contains(mounts["/sys"].Options, "ro") || !slices.Contains(mounts["/sys/fs/cgroup"].Options, "ro") {
		t.Errorf("/sys or /sys/fs/cgroup not read-only")
	}
	if !slices.Contains(spec.Linux.MaskedPaths, "/proc/kcore") || !slices.Contains(spec.Linux.ReadonlyPaths, "/proc/sys") {
		t.Errorf("masked %v readonly %v", spec.Linux.MaskedPaths, spec.Linux.ReadonlyPaths)
	}

	// Names need the image's /etc/passwd.
	if _, err := BuildSpec(img, id, "/b", SpecOptions{User: "alice"}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("user name without /etc/passwd = %v, want InvalidArgument", err)
	}
	for _, bad := range []SpecOptions{{Cwd: "relative"}, {User: ":"}, {User: "1:"}, {Env: []string{"=x"}}, {Labels: map[string]string{"": "x"}}} {
		if _, err := BuildSpec(img, id, "/b", bad); !errdefs.IsInvalidArgument(err) {
			t.Errorf("BuildSpec(%+v) = %v, want InvalidArgument", bad, err)
		}
	}
}

func TestResolveUserSymlinkStaysInRootfs(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	// An absolute symlink must resolve inside the rootfs, not on the host.
	if err := os.Symlink("/etc/shadow-of-host", filepath.Join(dir, "etc", "passwd")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "etc", "shadow-of-host"), "bob:x:42:43::/:/bin/sh\n")
	u, err := ResolveUser(dir, "bob")
	if err != nil || u.UID != 42 || u.GID != 43 {
		t.Fatalf("ResolveUser(bob) = %+v, %v; want 42:43 from the rootfs", u, err)
	}
}

func TestHelloImage(t *testing.T) {
	static, dynamic := "/bin/busybox", "/bin/sh"
	if err := CheckStatic(static); err != nil {
		t.Skipf("no static executable to test with (%v)", err)
	}
	if _, err := ResolveImage("hello", dynamic); err == nil || !strings.Contains(err.Error(), "rtd was built with cgo; rebuild with CGO_ENABLED=0 (make build)") {
		t.Errorf("hello with a dynamic binary = %v, want the cgo error", err)
	}
	img, err := ResolveImage("hello", static)
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(t.TempDir(), "bundle")
	spec, err := BuildSpec(img, "h1", bundle, SpecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(spec.Process.Args, []string{HelloPath}) || spec.Root.Path != filepath.Join(bundle, "rootfs") {
		t.Fatalf("hello spec: args %v root %v", spec.Process.Args, spec.Root.Path)
	}
	var bind *specs.Mount
	for i, m := range spec.Mounts {
		if m.Destination == HelloPath {
			bind = &spec.Mounts[i]
		}
	}
	if bind == nil || bind.Source != static || !slices.Contains(bind.Options, "ro") || !slices.Contains(bind.Options, "bind") {
		t.Fatalf("hello mount = %+v", bind)
	}
	if err := WriteBundle(bundle, img, spec); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(bundle, "rootfs", "hello")); err != nil || fi.Size() != 0 {
		t.Fatalf("hello mount point: %v, %v", fi, err)
	}
	entries, _ := os.ReadDir(filepath.Join(bundle, "rootfs"))
	if len(entries) != 1 {
		t.Fatalf("hello rootfs holds %v, want only the mount point", entries)
	}
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back specs.Spec
	if err := json.Unmarshal(data, &back); err != nil || back.Process.Args[0] != HelloPath {
		t.Fatalf("config.json: %v", err)
	}
}

// A root that is the host's / is refused up front, whichever way it is
// named: a rootfs image "/", a bundle's root.path of "../" enough times, a
// symlink to /.
func TestImageRootIsHostRoot(t *testing.T) {
	bundle := t.TempDir()
	if err := os.WriteFile(filepath.Join(bundle, "config.json"),
		[]byte(`{"ociVersion": "1.0.2", "process": {"args": ["/bin/true"], "cwd": "/"}, "root": {"path": "../../../../../../../"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "root")
	if err := os.Symlink("/", link); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"/", bundle, link} {
		_, err := ResolveImage(ref, "")
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "is the host's root directory") {
			t.Errorf("ResolveImage(%s) = %v, want InvalidArgument naming the host's root", ref, err)
		}
	}
}
