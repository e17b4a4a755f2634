package core

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rtd-project/rtd/internal/imagestore"
)

func storeImage(t *testing.T, cfg v1.Config, annotations map[string]string) *Image {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "etc", "passwd"), "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home:/bin/sh\n")
	writeFile(t, filepath.Join(dir, "etc", "group"), "root:x:0:\napp:x:1001:\n")
	dig, err := v1.NewHash("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	return &Image{Kind: KindImage, Ref: "app", Dir: dir, Stored: &imagestore.Image{
		Name: "docker.io/library/app:1", Digest: dig, Manifest: &v1.Manifest{}, Annotations: annotations,
		Config: &v1.ConfigFile{OS: "linux", Architecture: "amd64", Config: cfg},
	}}
}

func TestImageSpecFromConfig(t *testing.T) {
	img := storeImage(t, v1.Config{
		Entrypoint: []string{"/bin/app", "--serve"}, Cmd: []string{"default"},
		Env: []string{"PATH=/opt/bin", "A=1"}, WorkingDir: "/work", User: "app",
		Labels: map[string]string{"tier": "web"},
	}, map[string]string{"com.urunc.unikernel.binary": "L3VuaWtlcm5lbA=="})
	spec, err := BuildSpec(img, "id1", t.TempDir(), SpecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := spec.Process
	if !reflect.DeepEqual(p.Args, []string{"/bin/app", "--serve", "default"}) || p.Cwd != "/work" || p.User.UID != 1000 || p.User.GID != 1001 {
		t.Fatalf("process = args %v cwd %q user %d:%d", p.Args, p.Cwd, p.User.UID, p.User.GID)
	}
	if !containsEnv(p.Env, "A") || !reflect.DeepEqual(p.Env[0], "PATH=/opt/bin") {
		t.Fatalf("env = %v", p.Env)
	}
	a := spec.Annotations
	if a["com.urunc.unikernel.binary"] != "L3VuaWtlcm5lbA==" || a[LabelAnnotationPrefix+"tier"] != "web" ||
		a[AnnotImageName] != "docker.io/library/app:1" || a[AnnotImageDigest] != img.Stored.Digest.String() {
		t.Fatalf("annotations = %v", a)
	}
	if !img.Unikernel() || img.Wasm() {
		t.Fatalf("unikernel %v wasm %v, want an image declaring a unikernel", img.Unikernel(), img.Wasm())
	}
	// Arguments replace Cmd, keep Entrypoint; flags win over the config.
	spec, err = BuildSpec(img, "id1", t.TempDir(), SpecOptions{Args: []string{"x"}, Cwd: "/", User: "0", Env: []string{"A=2"}})
	if err != nil {
		t.Fatal(err)
	}
	p = spec.Process
	if !reflect.DeepEqual(p.Args, []string{"/bin/app", "--serve", "x"}) || p.Cwd != "/" || p.User.UID != 0 || !reflect.DeepEqual(p.Env[len(p.Env)-1], "A=2") {
		t.Fatalf("with flags: args %v cwd %q uid %d env %v", p.Args, p.Cwd, p.User.UID, p.Env)
	}
	// No command at all is refused, naming what to do.
	if _, err := BuildSpec(storeImage(t, v1.Config{}, nil), "id2", t.TempDir(), SpecOptions{}); err == nil {
		t.Fatal("an image without a command: no error")
	}
}
