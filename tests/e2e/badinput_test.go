//go:build linux

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// wantOneLineError checks a failed rtd command: non-zero exit, exactly one
// line "rtd: ..." on stderr containing want, and nothing left in the root.
func wantOneLineError(t *testing.T, e *env, r result, want string) {
	t.Helper()
	if r.code == 0 {
		t.Errorf("want a non-zero exit: %s", r)
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if !strings.HasPrefix(r.stderr, "rtd: ") || len(lines) > 2 || (len(lines) == 2 && !strings.HasPrefix(lines[1], "See 'rtd ")) {
		t.Errorf("want exactly one line \"rtd: ...\" on stderr (and docker's help hint after a usage error): %s", r)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr does not name the problem (%q): %s", want, r)
	}
	if recs := e.records(); len(recs) != 0 {
		t.Errorf("left records: %v", recs)
	}
	if pids := monitorPids(e.root, ""); len(pids) != 0 {
		t.Errorf("left monitors: %v", pids)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	fs := rootfs(t)

	t.Run("unknown driver", func(t *testing.T) {
		r := e.rtd("run", "--rm", "--driver", "nosuch", fs, "true")
		wantOneLineError(t, e, r, `driver "nosuch" not found (searched: `)
	})
	t.Run("invalid id", func(t *testing.T) {
		r := e.rtd("run", "--rm", "--name", "../x", fs, "true")
		wantOneLineError(t, e, r, `"../x"`)
		if _, err := os.Stat(filepath.Join(e.root, "x")); err == nil {
			t.Error("created something outside containers/")
		}
	})
	t.Run("missing rootfs", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope")
		r := e.rtd("run", "--rm", missing, "true")
		wantOneLineError(t, e, r, "no such file or directory")
	})
	t.Run("malformed config.json", func(t *testing.T) {
		bundle := t.TempDir()
		if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte("{\n  \"process\": {,\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := e.rtd("run", "--rm", bundle)
		wantOneLineError(t, e, r, filepath.Join(bundle, "config.json")+": malformed JSON at line 2")
	})
	t.Run("driver exits at once", func(t *testing.T) {
		dir := t.TempDir()
		script := "#!/bin/sh\necho 'fake driver: giving up' >&2\nexit 1\n"
		if err := os.WriteFile(filepath.Join(dir, "rtd-driver-dead"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		saved := e.extraEnv
		e.extraEnv = append(e.extraEnv, "RTD_DRIVER_PATH="+dir)
		defer func() { e.extraEnv = saved }()
		r := e.rtd("run", "--rm", "--driver", "dead", fs, "true")
		wantOneLineError(t, e, r, `driver "dead"`)
		if !strings.Contains(r.stderr, "fake driver: giving up") {
			t.Errorf("the error does not show the driver's last log line: %s", r)
		}
	})
	t.Run("not root", func(t *testing.T) {
		cmd := e.command(nil, "run", "--rm", fs, "true")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		r := e.finish(cmd, []string{"run", "--rm", fs, "true", "(as nobody)"})
		wantOneLineError(t, e, r, "rtd: run: must be run as root (rootless containers are not supported yet)")
		if r.code != 125 {
			t.Errorf("want exit 125: %s", r)
		}
	})
	t.Run("unknown container", func(t *testing.T) {
		for _, args := range [][]string{{"rm", "nosuch"}, {"kill", "nosuch"}, {"wait", "nosuch"}, {"logs", "nosuch"}, {"rm", "../x"}} {
			r := e.rtd(args...)
			wantOneLineError(t, e, r, "")
		}
	})
	t.Run("unknown flag", func(t *testing.T) {
		r := e.rtd("run", "--no-such-flag", fs)
		wantOneLineError(t, e, r, "unknown flag")
		if r.code != 125 {
			t.Errorf("want exit 125: %s", r)
		}
	})
}

// The rtd binary is static: the hello image needs that.
func TestBinaryIsStatic(t *testing.T) {
	newEnv(t)
	out, err := exec.Command("file", rtdBin).CombinedOutput()
	if err != nil {
		t.Skipf("file(1) not available: %v", err)
	}
	if !strings.Contains(string(out), "statically linked") {
		t.Errorf("rtd is not static: %s", out)
	}
}
