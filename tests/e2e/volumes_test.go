//go:build linux

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostMounts returns the lines of the host's mount table that mention s.
func hostMounts(s string) []string {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// volumeNames lists the volumes of the root (rtd volume ls -q).
func volumeNames(e *env) []string {
	return strings.Fields(e.ok("volume", "ls", "-q").stdout)
}

// testNamedVolume checks, on driver, that a named volume keeps what one
// container wrote for the next one after rm, that a read-only mount of it
// refuses writes, and that a bind mount's writes reach the host.
func testNamedVolume(t *testing.T, e *env, drv string) {
	fs, outside := symlinkRootfs(t)
	host := t.TempDir()
	// The bind's target goes through /abs, a symlink to a host path: it
	// must land inside the container's root.
	e.ok("run", "--rm", "--driver", drv, "-v", "data:/data", "-v", host+":/abs/h", fs, "sh", "-c", "echo kept > /data/f && echo "+drv+" > /abs/h/f")
	if data, err := os.ReadFile(filepath.Join(host, "f")); err != nil || string(data) != drv+"\n" {
		t.Errorf("the container's write to a bind is not on the host: %q, %v", data, err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("a mount target escaped the rootfs: %s holds %v", outside, entries)
	}
	if got := e.ok("run", "--rm", "--driver", drv, "-v", "data:/data", fs, "cat", "/data/f").stdout; got != "kept\n" {
		t.Errorf("the next container reads %q from the volume, want kept", got)
	}
	r := e.rtd("run", "--rm", "--driver", drv, "--mount", "type=volume,src=data,dst=/data,readonly", fs, "sh", "-c", "echo x > /data/g")
	if r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") {
		t.Errorf("a write to a read-only volume: %s", r)
	}
	if _, err := os.Stat(filepath.Join(e.root, "volumes", "data", "_data", "g")); err == nil {
		t.Error("the write to the read-only volume reached the host")
	}
}

// symlinkRootfs returns a busybox rootfs with /abs -> <outside> and /rel
// -> ../../../<outside>, <outside> being an empty host directory: a mount
// on /abs/x or /rel/y must land inside the container's root, never on the
// host's <outside>.
func symlinkRootfs(t *testing.T) (rootfsDir, outside string) {
	outside = t.TempDir()
	rootfsDir = rootfs(t)
	if err := os.Symlink(outside, filepath.Join(rootfsDir, "abs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(strings.Repeat("../", 12)+strings.TrimPrefix(outside, "/"), filepath.Join(rootfsDir, "rel")); err != nil {
		t.Fatal(err)
	}
	return rootfsDir, outside
}

func TestVolumes(t *testing.T) {
	e := newEnv(t)
	fs := rootfs(t)
	for _, c := range []struct {
		name string
		run  func(t *testing.T, e *env, fs string)
	}{
		{"named volume", func(t *testing.T, e *env, fs string) {
			testNamedVolume(t, e, "linux")
			id := uniqueID("vol")
			e.ok("create", "--name", id, "-v", "data:/data", fs, "true")
			r := e.wantCode(1, "volume", "rm", "data")
			if !strings.Contains(r.stderr, "in use by container "+id) {
				t.Errorf("volume rm of a volume in use: %s", r)
			}
			e.ok("rm", "-f", id)
			e.ok("volume", "rm", "data")
			if names := volumeNames(e); len(names) != 0 {
				t.Errorf("volumes left: %v", names)
			}
		}},
		{"bind host path", func(t *testing.T, e *env, fs string) {
			host := filepath.Join(t.TempDir(), "not", "yet")
			// A host path that does not exist is created, as docker does.
			e.ok("run", "--rm", "-v", host+":/data", fs, "sh", "-c", "echo hi > /data/f")
			if data, err := os.ReadFile(filepath.Join(host, "f")); err != nil || string(data) != "hi\n" {
				t.Errorf("the container's write is not on the host: %q, %v", data, err)
			}
			r := e.rtd("run", "--rm", "-v", host+":/data:ro", fs, "sh", "-c", "echo x > /data/g")
			if r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") {
				t.Errorf("a write to a :ro bind: %s", r)
			}
			if got := e.ok("run", "--rm", "--mount", "type=bind,source="+host+",target=/d,readonly", fs, "cat", "/d/f").stdout; got != "hi\n" {
				t.Errorf("--mount type=bind reads %q", got)
			}
			r = e.rtd("run", "--rm", "--mount", "type=bind,src="+host+",dst=/d,ro=true", fs, "touch", "/d/g")
			if r.code == 0 {
				t.Errorf("--mount ro=true is writable: %s", r)
			}
		}},
		{"tmpfs", func(t *testing.T, e *env, fs string) {
			out := e.ok("run", "--rm", "--tmpfs", "/t:size=1m,mode=0700", "--mount", "type=tmpfs,dst=/u,tmpfs-size=2m",
				fs, "grep", "-E", " /[tu] ", "/proc/mounts").stdout
			if !strings.Contains(out, "tmpfs /t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700") ||
				!strings.Contains(out, "tmpfs /u tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k") {
				t.Errorf("tmpfs mounts in the container:\n%s", out)
			}
		}},
		{"anonymous volumes", func(t *testing.T, e *env, fs string) {
			// run --rm takes its anonymous volumes along; without --rm they stay.
			e.ok("run", "--rm", "-v", "/anon", fs, "touch", "/anon/f")
			if names := volumeNames(e); len(names) != 0 {
				t.Errorf("run --rm left anonymous volumes: %v", names)
			}
			id := uniqueID("anon")
			e.ok("run", "--name", id, "-v", "/anon", fs, "touch", "/anon/f")
			names := volumeNames(e)
			if len(names) != 1 {
				t.Fatalf("want one anonymous volume, got %v", names)
			}
			var vols []struct {
				Anonymous bool     `json:"anonymous"`
				UsedBy    []string `json:"usedBy"`
			}
			if err := json.Unmarshal([]byte(e.ok("volume", "inspect", names[0]).stdout), &vols); err != nil || len(vols) != 1 {
				t.Fatalf("volume inspect: %v", err)
			}
			if !vols[0].Anonymous || len(vols[0].UsedBy) != 1 || vols[0].UsedBy[0] != id {
				t.Errorf("volume inspect: %+v", vols[0])
			}
			e.ok("rm", id)
			e.ok("volume", "rm", names[0])
			// rm -v takes a container's anonymous volumes along, never a
			// named one.
			id = uniqueID("anonv")
			e.ok("run", "--name", id, "-v", "/anon", "-v", "keep:/keep", fs, "touch", "/anon/f", "/keep/f")
			if names := volumeNames(e); len(names) != 2 {
				t.Fatalf("want an anonymous and a named volume, got %v", names)
			}
			e.ok("rm", "-v", id)
			if names := volumeNames(e); len(names) != 1 || names[0] != "keep" {
				t.Errorf("after rm -v: volumes %v, want only keep", names)
			}
			e.ok("volume", "rm", "keep")
		}},
		{"bad input", func(t *testing.T, e *env, fs string) {
			missing := filepath.Join(t.TempDir(), "missing")
			for _, c := range []struct {
				args []string
				want string
			}{
				{[]string{"--mount", "type=bind,src=" + missing + ",dst=/m"}, "bind source path does not exist: " + missing},
				{[]string{"-v", "/h:rel"}, `mount target "rel" is not an absolute path`},
				{[]string{"-v", "/h:/a/../../b"}, `has a ".." element`},
				{[]string{"--tmpfs", "/"}, "is the container's root"},
				{[]string{"-v", "/h:/m:rx"}, `unknown option "rx"`},
				{[]string{"-v", "bad/name:/m"}, `volume "bad/name"`},
				{[]string{"--mount", "type=nfs,dst=/m"}, `unknown type "nfs"`},
				{[]string{"--mount", "type=volume,dst=/m,tmpfs-size=1m"}, "apply to type=tmpfs only"},
				{[]string{"-v", "v1:/m", "--tmpfs", "/m"}, "duplicate mount target /m"},
			} {
				r := e.rtd(append(append([]string{"run", "--rm"}, c.args...), fs, "true")...)
				if r.code != 125 {
					t.Errorf("%v: want exit 125: %s", c.args, r)
				}
				wantOneLineError(t, e, r, c.want)
			}
			if names := volumeNames(e); len(names) != 0 {
				t.Errorf("a refused run left volumes: %v", names)
			}
			if _, err := os.Stat(missing); err == nil {
				t.Error("--mount type=bind created its missing source")
			}
			e.wantCode(1, "volume", "rm", "nosuch")
			e.ok("volume", "rm", "-f", "nosuch")
		}},
		{"target through a symlink out of the rootfs", func(t *testing.T, e *env, fs string) {
			evil, outside := symlinkRootfs(t)
			host := t.TempDir()
			e.ok("run", "--rm", "-v", host+":/abs/x", "--tmpfs", "/rel/y", evil, "touch", "/abs/x/f", "/rel/y/g")
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("a mount target escaped the rootfs: %s holds %v", outside, entries)
			}
			if m := hostMounts(outside); len(m) != 0 {
				t.Errorf("mounted on the host: %v", m)
			}
			if _, err := os.Stat(filepath.Join(host, "f")); err != nil {
				t.Errorf("the bind through the symlink did not work inside the rootfs: %v", err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, e, fs) })
	}
}

func TestVolumesGvisor(t *testing.T) {
	needRunsc(t)
	e := newEnv(t)
	testNamedVolume(t, e, "gvisor")
	out := e.ok("run", "--rm", "--driver", "gvisor", "--tmpfs", "/t:size=1m", rootfs(t), "sh", "-c", "touch /t/x && grep ' /t ' /proc/mounts").stdout
	if !strings.Contains(out, "tmpfs") {
		t.Errorf("no tmpfs at /t: %q", out)
	}
}
