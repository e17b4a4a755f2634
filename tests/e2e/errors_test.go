//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorPaths goes through every error path of the CLI with the real
// linux driver: each failure exits with docker's code (125 a flag error or
// a failed run, 126 a command that cannot be executed, 127 a command not
// found, 1 any other command's failure), prints exactly one line
// "rtd: ..." that names what is wrong and, where there is one, what to do
// (after a flag or argument error, docker's hint line "See 'rtd CMD
// --help'."), and leaves no record behind.
func TestErrorPaths(t *testing.T) {
	e := newEnv(t)
	fs := rootfs(t)
	running := uniqueID("running")
	e.ok("run", "-d", "--name", running, fs, "sleep", "1000")
	stopped := uniqueID("stopped")
	e.ok("run", "-d", "--name", stopped, fs, "true")
	e.ok("wait", stopped)
	attached := uniqueID("attached")
	e.ok("run", "--name", attached, fs, "true")
	// A container whose driver state is gone: only its record is left.
	gone := uniqueID("gone")
	e.ok("run", "-d", "--name", gone, fs, "true")
	e.ok("wait", gone)
	for _, dir := range []string{filepath.Join("c", gone), filepath.Join("lc", gone)} {
		if err := os.RemoveAll(filepath.Join(e.root, "drivers", "linux", dir)); err != nil {
			t.Fatal(err)
		}
	}
	// A bundle whose root is the host's /. Should a regression let it run,
	// its own mount namespace and /dev keep the host's mounts and devices
	// intact (run without them, libcontainer replaced the host's /dev/ptmx
	// and bind-mounted / on itself).
	hostRoot := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostRoot, "config.json"), []byte(`{"ociVersion": "1.0.2",
		"process": {"args": ["/bin/true"], "cwd": "/"}, "root": {"path": "../../../../../../../"},
		"mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}, {"destination": "/dev", "type": "tmpfs", "source": "tmpfs"}],
		"linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	keep := map[string]bool{running: true, stopped: true, attached: true, gone: true}

	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		// Usage.
		{[]string{"nosuchverb"}, 1, []string{`'nosuchverb' is not a rtd command.`}},
		{[]string{"run", "--no-such-flag", fs}, 125, []string{"unknown flag: --no-such-flag"}},
		{[]string{"run"}, 1, []string{`"rtd run" requires at least 1 argument (IMAGE; usage: `}},
		{[]string{"--log-level", "loud", "ps"}, 125, []string{`invalid --log-level "loud": want trace`}},
		{[]string{"kill", "-s", "NOPE", running}, 1, []string{`invalid signal "NOPE"`}},
		{[]string{"--policy", "/nonexistent/policy.toml", "run", "--rm", "hello"}, 125, []string{"policy /nonexistent/policy.toml: ", "no such file or directory"}},
		// Bad input to run.
		{[]string{"run", "--rm", "--driver", "nosuch", fs, "true"}, 125, []string{`driver "nosuch" not found (searched: `}},
		{[]string{"run", "--rm", "--name", "../x", fs, "true"}, 125, []string{`"../x"`}},
		{[]string{"run", "--rm", filepath.Join(fs, "nope"), "true"}, 125, []string{"no such file or directory"}},
		{[]string{"run", "--rm", hostRoot}, 125, []string{"the container's root / is the host's root directory", "give it its own root filesystem directory"}},
		{[]string{"run", "--rm", "/", "true"}, 125, []string{"the container's root / is the host's root directory"}},
		{[]string{"run", "-d", "--name", running, fs, "true"}, 125, []string{`container "` + running + `" already exists`}},
		// A command that cannot run: by class, as docker.
		{[]string{"run", "--rm", fs, "/no/such"}, 127, []string{"the command was not found", `"/no/such"`}},
		{[]string{"run", "--rm", fs, "nosuch"}, 127, []string{"the command was not found", `"nosuch": executable file not found`}},
		{[]string{"run", "-d", fs, "nosuch"}, 127, []string{"the command was not found"}},
		{[]string{"run", "--rm", fs, "/etc"}, 126, []string{"the command cannot be executed", `"/etc": is a directory`}},
		{[]string{"run", "--rm", fs, "/etc/passwd"}, 126, []string{"the command cannot be executed", `"/etc/passwd": permission denied`}},
		{[]string{"exec", running, "/no/such"}, 126, []string{"the command was not found"}}, // docker exec: 126 for both
		{[]string{"exec", running, "/etc"}, 126, []string{"the command cannot be executed"}},
		// Unknown containers.
		{[]string{"rm", "nosuch"}, 1, []string{"no such container: nosuch"}},
		{[]string{"kill", "nosuch"}, 1, []string{"no such container: nosuch"}},
		{[]string{"wait", "nosuch"}, 1, []string{"no such container: nosuch"}},
		{[]string{"logs", "nosuch"}, 1, []string{"no such container: nosuch"}},
		{[]string{"start", "nosuch"}, 1, []string{"no such container: nosuch"}},
		{[]string{"exec", "nosuch", "true"}, 1, []string{"no such container: nosuch"}},
		{[]string{"inspect", "nosuch"}, 1, []string{"no such container: nosuch"}},
		{[]string{"rm", "../x"}, 1, []string{`"../x"`}},
		// Containers in the wrong state.
		{[]string{"rm", running}, 1, []string{"the container is running; kill it first or use rm -f"}},
		{[]string{"start", running}, 1, []string{"container is running, not created"}},
		{[]string{"exec", stopped, "true"}, 1, []string{"container is stopped, not running"}},
		{[]string{"kill", stopped}, 1, []string{"container is not running"}},
		{[]string{"logs", attached}, 1, []string{"the container ran attached, its output was not kept"}},
		// A record whose driver lost the container.
		{[]string{"wait", gone}, 1, []string{"no such container", "the linux driver no longer has container " + gone + "; rtd rm " + gone + " removes its record"}},
		{[]string{"kill", gone}, 1, []string{"no such container", "rtd rm " + gone + " removes its record"}},
		{[]string{"start", gone}, 1, []string{"no such container", "rtd rm " + gone + " removes its record"}},
	} {
		r := e.rtd(c.args...)
		if r.code != c.code {
			t.Errorf("want exit %d: %s", c.code, r)
		}
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if !strings.HasPrefix(r.stderr, "rtd: ") || len(lines) > 2 || (len(lines) == 2 && lines[1] != "See 'rtd "+c.args[0]+" --help'." && lines[1] != "See 'rtd --help'") {
			t.Errorf("want exactly one line \"rtd: ...\" on stderr (and docker's help hint after a usage error): %s", r)
		}
		for _, w := range c.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("stderr does not say %q: %s", w, r)
			}
		}
		// A message stands alone: it does not end in a bare noun that
		// relied on an errdefs class name after it.
		line := strings.TrimSpace(lines[0])
		for _, bare := range []string{": container", ": exec", ": not found", ": already exists"} {
			if strings.HasSuffix(line, bare) {
				t.Errorf("message ends in %q: %s", bare, r)
			}
		}
		for _, rec := range e.records() {
			if !keep[rec] {
				t.Errorf("left a record %s: %s", rec, r)
				e.rtd("rm", "-f", rec)
			}
		}
	}
	e.ok("rm", gone)
	// The test removed the driver's state of gone, so its cgroup is the
	// test's to remove.
	left, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", "rtd", "*", gone))
	for _, p := range left {
		_ = os.Remove(p)
	}
	e.ok("rm", "-f", running, stopped, attached)
	for _, id := range []string{running, stopped, attached, gone} {
		assertNoLeaks(t, e, id)
	}
}
