package core

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseMountFlags(t *testing.T) {
	for _, c := range []struct {
		parse func(string) (Mount, error)
		in    string
		want  Mount
	}{
		{ParseVolumeFlag, "/h:/c", Mount{Type: MountBind, Source: "/h", Target: "/c", CreateSource: true}},
		{ParseVolumeFlag, "/h:/c:ro,rshared", Mount{Type: MountBind, Source: "/h", Target: "/c", CreateSource: true, ReadOnly: true, Propagation: "rshared"}},
		{ParseVolumeFlag, "./h:/c:rw", Mount{Type: MountBind, Source: "./h", Target: "/c", CreateSource: true}},
		{ParseVolumeFlag, "data:/c:ro", Mount{Type: MountVolume, Source: "data", Target: "/c", ReadOnly: true}},
		{ParseVolumeFlag, "/c", Mount{Type: MountVolume, Target: "/c"}},
		{ParseMountFlag, "type=bind,src=/h,dst=/c,readonly", Mount{Type: MountBind, Source: "/h", Target: "/c", ReadOnly: true}},
		{ParseMountFlag, "type=bind,source=/h,target=/c,ro=false,bind-propagation=rslave", Mount{Type: MountBind, Source: "/h", Target: "/c", Propagation: "rslave"}},
		{ParseMountFlag, "destination=/c", Mount{Type: MountVolume, Target: "/c"}},
		{ParseMountFlag, "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=700", Mount{Type: MountTmpfs, Target: "/t", TmpfsOptions: []string{"size=1048576", "mode=700"}}},
		{ParseTmpfsFlag, "/t", Mount{Type: MountTmpfs, Target: "/t"}},
		{ParseTmpfsFlag, "/t:size=2k,exec,ro", Mount{Type: MountTmpfs, Target: "/t", ReadOnly: true, TmpfsOptions: []string{"size=2048", "exec"}}},
	} {
		got, err := c.parse(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct {
		parse func(string) (Mount, error)
		in    string
	}{
		{ParseVolumeFlag, "/h:/c:z"}, {ParseVolumeFlag, "a:b:c:d"}, {ParseVolumeFlag, ":/c"}, {ParseVolumeFlag, "v:/c:shared"},
		{ParseMountFlag, "type=nfs,dst=/c"}, {ParseMountFlag, "src=/h"}, {ParseMountFlag, "type=bind,dst=/c"},
		{ParseMountFlag, "type=bind,src=rel,dst=/c"}, {ParseMountFlag, "type=tmpfs,src=x,dst=/c"}, {ParseMountFlag, "dst=/c,tmpfs-size=1m"},
		{ParseMountFlag, "dst=/c,bind-propagation=shared"}, {ParseMountFlag, "dst=/c,ro=maybe"}, {ParseMountFlag, "dst=/c,colour=red"},
		{ParseMountFlag, `dst="/c`}, {ParseTmpfsFlag, "/t:size=huge"},
	} {
		if _, err := c.parse(c.in); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%q: want InvalidArgument, got %v", c.in, err)
		}
	}
}

func TestResolveMounts(t *testing.T) {
	c := New(Options{Root: t.TempDir()})
	host := filepath.Join(t.TempDir(), "new", "dir")
	mounts, created, err := c.resolveMounts([]Mount{
		{Type: MountBind, Source: host, Target: "/b/", CreateSource: true, ReadOnly: true},
		{Type: MountVolume, Source: "data", Target: "/v"},
		{Type: MountVolume, Target: "/anon"},
		{Type: MountTmpfs, Target: "/t", TmpfsOptions: []string{"size=1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(host); err != nil || !fi.IsDir() {
		t.Errorf("-v host path not created: %v", err)
	}
	if len(created) != 2 || created[0] != "data" {
		t.Errorf("created volumes %v", created)
	}
	want := []specs.Mount{
		{Destination: "/b", Type: "bind", Source: host, Options: []string{"rbind", "rprivate", "ro"}},
		{Destination: "/v", Type: "bind", Source: c.volumeData("data"), Options: []string{"rbind", "rprivate"}},
		{Destination: "/anon", Type: "bind", Source: c.volumeData(created[1]), Options: []string{"rbind", "rprivate"}},
		{Destination: "/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "noexec", "size=1"}},
	}
	if !reflect.DeepEqual(mounts, want) {
		t.Errorf("got %+v\nwant %+v", mounts, want)
	}
	v, err := c.InspectVolume(created[1])
	if err != nil || !v.Anonymous {
		t.Errorf("anonymous volume: %+v, %v", v, err)
	}
	// A bad mount after good ones creates nothing.
	_, _, err = c.resolveMounts([]Mount{{Type: MountVolume, Source: "other", Target: "/o"}, {Type: MountTmpfs, Target: "/o"}})
	if !errdefs.IsInvalidArgument(err) {
		t.Errorf("duplicate target: %v", err)
	}
	if _, err := c.InspectVolume("other"); !errdefs.IsNotFound(err) {
		t.Errorf("a refused resolve created a volume: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	if _, _, err := c.resolveMounts([]Mount{{Type: MountBind, Source: missing, Target: "/m"}}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("--mount of a missing source: %v", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Error("--mount created its missing source")
	}
}

func TestReplaceMounts(t *testing.T) {
	base := []specs.Mount{{Destination: "/proc"}, {Destination: "/dev/shm", Type: "tmpfs"}}
	got := replaceMounts(base, []specs.Mount{{Destination: "/dev/shm/", Type: "bind"}})
	if len(got) != 2 || got[0].Destination != "/proc" || got[1].Type != "bind" {
		t.Errorf("got %+v", got)
	}
}
