//go:build linux

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rtd-project/rtd/internal/testutil/testimage"
)

// treeHash hashes a directory tree: every path, its mode, owner and
// content (or link target).
func treeHash(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s %v %d\n", rel, fi.Mode(), fi.ModTime().UnixNano())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			io.WriteString(h, target)
		case fi.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			io.Copy(h, f)
			f.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// appImage is busybox plus two layers: the second deletes /etc/motd and
// makes /data opaque; the config sets everything rtd maps into the spec.
func appImage(t *testing.T) v1.Image {
	bb := testimage.Busybox(t)
	l2 := testimage.Layer(t, testimage.Dir("data"), testimage.File{Name: "data/old", Body: "old"},
		testimage.File{Name: "etc/motd", Body: "motd"}, testimage.File{Name: "srv", Dir: true, Mode: 0o777}, testimage.File{Name: "srv/hi", Body: "hi from the image\n"},
		testimage.File{Name: "srv/open", Body: "writable by all\n", Mode: 0o666})
	l3 := testimage.Layer(t, testimage.Whiteout("etc/motd"), testimage.Opaque("data"), testimage.File{Name: "data/new", Body: "new"})
	return testimage.Image(t, testimage.Config{
		Entrypoint: []string{"/bin/sh", "-c"},
		Cmd:        []string{`echo "$GREETING $(pwd) $(id -u)"; cat hi; ls /data; test -e /etc/motd && echo motd; true`},
		Env:        []string{"PATH=/bin", "GREETING=hello"},
		WorkingDir: "/srv",
		User:       "app",
		Labels:     map[string]string{"org.example.tier": "web"},
	}, bb, l2, l3)
}

const appOutput = "hello /srv 1000\nhi from the image\nnew\n"

func TestImagePullRunRmi(t *testing.T) {
	e := newEnv(t)
	host := testimage.Registry(t)
	ref := host + "/app:1"
	dig := testimage.Push(t, ref, appImage(t))
	r := e.ok("pull", ref)
	if !strings.Contains(r.stdout, dig) || !strings.Contains(r.stderr, "done") {
		t.Fatalf("pull: %s", r)
	}
	// By tag and by digest: the config's entrypoint, cmd, env, workdir and
	// user, and the layers' whiteouts and opaque directory.
	for _, name := range []string{ref, host + "/app@" + dig, dig} {
		if r := e.ok("run", "--rm", name); r.stdout != appOutput {
			t.Fatalf("run %s: %s\nwant stdout %q", name, r, appOutput)
		}
	}
	// Arguments replace Cmd and keep the Entrypoint.
	if r := e.ok("run", "--rm", ref, "echo args"); r.stdout != "args\n" {
		t.Fatalf("run with args: %s", r)
	}
	r = e.ok("images")
	if !strings.Contains(r.stdout, host+"/app") || !strings.Contains(r.stdout, dig[7:19]) {
		t.Fatalf("images: %s", r)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(e.ok("images", "--format", "json").stdout), &list); err != nil || len(list) != 1 || list[0]["digest"] != dig || list[0]["platform"] != "linux/amd64" {
		t.Fatalf("images --format json: %v %v", list, err)
	}
	// Writes stay in the container: not in the image, not in another
	// container, gone after rm.
	snap := filepath.Join(e.root, "images", "snapshots")
	before := treeHash(t, snap)
	e.ok("run", "-d", "--name", "w", ref, "echo written > /srv/hi; mkdir -p /new/dir; rm /bin/ls; sleep 30")
	e.ok("run", "-d", "--name", "w2", ref, "sleep 30")
	waitFor(func() bool { return e.rtd("exec", "w", "cat", "/srv/hi").stdout == "written\n" })
	if r := e.ok("exec", "w2", "cat", "/srv/hi"); r.stdout != "hi from the image\n" {
		t.Fatalf("the other container sees: %s", r)
	}
	if r := e.rtd("exec", "w2", "ls", "/new"); r.code == 0 {
		t.Fatalf("the other container sees /new: %s", r)
	}
	e.ok("rm", "-f", "w")
	e.ok("rm", "-f", "w2")
	if after := treeHash(t, snap); after != before {
		t.Fatal("the image's root filesystem changed")
	}
	if r := e.ok("run", "--rm", ref, "cat /srv/hi; ls /bin/ls"); r.stdout != "hi from the image\n/bin/ls\n" {
		t.Fatalf("after rm, a new container: %s", r)
	}
	// rmi refuses an image a container uses, then removes it and its content.
	e.ok("create", "--name", "user", ref)
	e.wantCode(1, "rmi", ref)
	e.ok("rm", "user")
	e.ok("rmi", ref)
	if r := e.wantCode(125, "run", "--rm", ref); !strings.Contains(r.stderr, "rtd pull") {
		t.Fatalf("run after rmi: %s", r)
	}
	blobs, _ := os.ReadDir(filepath.Join(e.root, "images", "blobs", "sha256"))
	snaps, _ := os.ReadDir(snap)
	if len(blobs) != 0 || len(snaps) != 0 {
		t.Fatalf("after rmi: %d blobs, %d snapshots left", len(blobs), len(snaps))
	}
}

// A root filesystem directory given on the command line gets an overlay
// too: the container never writes into it.
func TestRootfsDirUnchanged(t *testing.T) {
	e := newEnv(t)
	fs := rootfs(t)
	before := treeHash(t, fs)
	e.ok("run", "--rm", "-w", "/nonexist", fs, "sh", "-c", "echo hi > /f; rm /bin/ls; mkdir /d")
	e.ok("run", "--rm", fs, "sh", "-c", "test ! -e /f && test -e /bin/ls")
	if after := treeHash(t, fs); after != before {
		t.Fatal("the root filesystem directory changed")
	}
}

func TestImageLoadAndLayout(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	hello := testimage.Image(t, testimage.Config{Cmd: []string{"/bin/echo", "Hello from hello-world"}}, testimage.Busybox(t))
	testimage.WriteDockerTar(t, filepath.Join(dir, "hello.tar"), "hello-world:latest", hello)
	r := e.ok("load", "-i", filepath.Join(dir, "hello.tar"))
	if !strings.Contains(r.stdout, "docker.io/library/hello-world:latest") {
		t.Fatalf("load: %s", r)
	}
	if r := e.ok("run", "--rm", "hello-world"); r.stdout != "Hello from hello-world\n" {
		t.Fatalf("run hello-world: %s", r)
	}
	app := appImage(t)
	testimage.WriteOCIArchive(t, filepath.Join(dir, "app.oci.tar"), map[string]v1.Image{"example.com/app:2": app})
	e.ok("load", "-q", "-i", filepath.Join(dir, "app.oci.tar"))
	if r := e.ok("run", "--rm", "example.com/app:2"); r.stdout != appOutput {
		t.Fatalf("run of a loaded OCI archive: %s", r)
	}
	layoutDir := filepath.Join(dir, "layout")
	testimage.WriteLayout(t, layoutDir, app)
	before := treeHash(t, layoutDir)
	if r := e.ok("run", "--rm", layoutDir); r.stdout != appOutput {
		t.Fatalf("run of an OCI layout dir: %s", r)
	}
	if treeHash(t, layoutDir) != before {
		t.Fatal("the layout directory changed")
	}
	e.ok("image", "prune", "-a")
	if r := e.ok("images", "-q"); r.stdout != "" {
		t.Fatalf("images after prune -a: %s", r)
	}
}

func TestImageBadInput(t *testing.T) {
	e := newEnv(t)
	host := testimage.Registry(t)
	testimage.Push(t, host+"/arm:1", testimage.Image(t, testimage.Config{Cmd: []string{"sh"}, Arch: "arm64"}, testimage.Layer(t, testimage.File{Name: "x", Body: "x"})))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"pull", host + "/nothere:1"}, "not in the registry"},
		{[]string{"pull", "Bad:Ref:!"}, "image reference"},
		{[]string{"pull", host + "/arm:1"}, "is for linux/arm64, not linux/amd64"},
		{[]string{"run", "--rm", "nosuchimage:1"}, "no such image here"},
		{[]string{"load", "-i", "/nonexistent.tar"}, "no such file"},
	}
	for _, tc := range cases {
		// As docker's: run exits 125, the other commands 1.
		code := 1
		if tc.args[0] == "run" {
			code = 125
		}
		r := e.wantCode(code, tc.args...)
		wantOneLineError(t, e, r, tc.want)
	}
	// A short name resolves through the configured mirror, never the internet.
	testimage.Push(t, host+"/library/busybox:latest", testimage.Image(t, testimage.Config{Cmd: []string{"echo", "mirrored"}}, testimage.Busybox(t)))
	e.extraEnv = append(e.extraEnv, "RTD_REGISTRY_MIRRORS=docker.io="+host)
	e.ok("pull", "-q", "busybox")
	if r := e.ok("run", "--rm", "busybox"); r.stdout != "mirrored\n" {
		t.Fatalf("run busybox: %s", r)
	}
	if len(e.records()) != 0 {
		t.Fatalf("records left: %v", e.records())
	}
}

// goHello is the static Go program of TestImageStaticGoProgram.
const goHello = `package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	wd, _ := os.Getwd()
	fmt.Printf("hello %s from %s in %s\n", strings.Join(os.Args[1:], " "), os.Getenv("FROM"), wd)
}
`

// An image of one static Go program, nothing else (no shell, no libc):
// pulled and run with its entrypoint, cmd, env and workdir.
func TestImageStaticGoProgram(t *testing.T) {
	e := newEnv(t)
	host := testimage.Registry(t)
	ref := host + "/gohello:1"
	img := testimage.Image(t, testimage.Config{Entrypoint: []string{"/hello"}, Cmd: []string{"world"}, Env: []string{"FROM=the image"}, WorkingDir: "/tmp"},
		testimage.Layer(t, testimage.File{Name: "hello", Body: string(testimage.GoProgram(t, goHello, "", "")), Mode: 0o755}))
	dig := testimage.Push(t, ref, img)
	e.ok("pull", "-q", ref)
	if r := e.ok("run", "--rm", ref); r.stdout != "hello world from the image in /tmp\n" {
		t.Fatalf("run %s: %s", ref, r)
	}
	if r := e.ok("run", "--rm", "-e", "FROM=the command line", host+"/gohello@"+dig, "you"); r.stdout != "hello you from the command line in /tmp\n" {
		t.Fatalf("run by digest with args: %s", r)
	}
}
