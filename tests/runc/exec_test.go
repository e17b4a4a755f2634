//go:build linux

package runc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestExecFlags: exec's flags the engines pass (--cwd, --env, --process,
// --detach with --pid-file) give the same answers on runc and rtd-runc:
// the process runs where and with what it was asked, a detached one's pid
// file names a live process, and exit codes come back.
func TestExecFlags(t *testing.T) {
	need(t)
	eachRuntime(t, false, func(t *testing.T, r *runtime) {
		b := bundle(t, "sleep", "1000")
		r.ok("run", "--detach", "--bundle", b, "c1")
		r.waitStatus("c1", "running")

		res := r.run("exec", "--cwd", "/tmp", "--env", "RTD_X=flag", "c1", "sh", "-c", `echo "$PWD $RTD_X"; exit 6`)
		if res.code != 6 || res.stdout != "/tmp flag\n" {
			t.Errorf("exec --cwd --env: %s, want exit 6 and \"/tmp flag\"", res)
		}

		proc := specs.Process{Args: []string{"sh", "-c", `echo "$PWD $RTD_Y"; exit 7`}, Cwd: "/etc",
			Env: []string{"PATH=/bin:/usr/bin", "RTD_Y=process"}}
		pf := filepath.Join(t.TempDir(), "process.json")
		data, err := json.Marshal(proc)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pf, data, 0o644); err != nil {
			t.Fatal(err)
		}
		res = r.run("exec", "--process", pf, "c1")
		if res.code != 7 || res.stdout != "/etc process\n" {
			t.Errorf("exec --process: %s, want exit 7 and \"/etc process\"", res)
		}

		pidFile := filepath.Join(t.TempDir(), "exec.pid")
		r.ok("exec", "--detach", "--pid-file", pidFile, "c1", "sleep", "1000")
		raw, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatalf("exec --detach --pid-file: %v", err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil || pid <= 0 || unix.Kill(pid, 0) != nil {
			t.Fatalf("exec --detach --pid-file: pid file %q names no live process (%v)", raw, err)
		}

		r.ok("kill", "c1", "KILL")
		r.waitStatus("c1", "stopped")
		r.ok("delete", "c1")
		// The detached exec's process ends with the container.
		deadline := time.Now().Add(10 * time.Second)
		for unix.Kill(pid, 0) == nil && !zombie(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("detached exec's process %d still running after delete", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
		assertEmpty(t, r, "c1")
	})
}

// zombie reports whether pid has exited and waits to be reaped.
func zombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && strings.HasPrefix(string(stat[i:]), ") Z")
}
