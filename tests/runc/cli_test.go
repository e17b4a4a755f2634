//go:build linux

package runc

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rtd-project/rtd/internal/testutil"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// TestRunOutputAndExitCode: run in the foreground passes the container's
// stdout, stderr and exit code, on the linux driver and on gvisor (picked
// by the binary's name), as runc does.
func TestRunOutputAndExitCode(t *testing.T) {
	need(t)
	eachRuntime(t, true, func(t *testing.T, r *runtime) {
		b := bundle(t, "sh", "-c", "echo out; echo err >&2; exit 3")
		res := r.run("run", "--bundle", b, "c1")
		if res.code != 3 || res.stdout != "out\n" || !strings.HasSuffix(res.stderr, "err\n") {
			t.Fatalf("run: %s, want exit 3, stdout \"out\\n\", stderr \"err\\n\"", res)
		}
		if res := r.ok("list", "--format", "json"); strings.TrimSpace(res.stdout) != "null" && strings.TrimSpace(res.stdout) != "[]" {
			t.Fatalf("after run: list %s, want none", res.stdout)
		}
	})
}

// TestLifecycle: create, state, start, exec, ps, pause, resume, kill,
// delete, with the answers runc gives.
func TestLifecycle(t *testing.T) {
	need(t)
	r := newRuntime(t, rtdRunc())
	b := bundle(t, "sleep", "1000")
	r.ok("create", "--bundle", b, "--pid-file", filepath.Join(b, "pid"), "c1")
	st := r.state("c1")
	if st["status"] != "created" || st["pid"].(float64) <= 0 || st["bundle"] != b {
		t.Fatalf("state after create: %v", st)
	}
	if data, err := os.ReadFile(filepath.Join(b, "pid")); err != nil || len(data) == 0 {
		t.Fatalf("pid file: %q, %v", data, err)
	}
	r.ok("start", "c1")
	r.waitStatus("c1", "running")
	if res := r.run("start", "c1"); res.code != 1 || !strings.Contains(res.stderr, "already running") {
		t.Fatalf("second start: %s, want exit 1, already running", res)
	}
	res := r.run("exec", "c1", "sh", "-c", "echo in; exit 5")
	if res.code != 5 || res.stdout != "in\n" {
		t.Fatalf("exec: %s, want exit 5, stdout \"in\\n\"", res)
	}
	var pids []int
	if err := json.Unmarshal([]byte(r.ok("ps", "--format", "json", "c1").stdout), &pids); err != nil || len(pids) == 0 {
		t.Fatalf("ps --format json: %v %v", pids, err)
	}
	res = r.ok("features")
	if !strings.Contains(res.stdout, `"ociVersionMax"`) {
		t.Fatalf("features: %q", res.stdout)
	}
	resources := filepath.Join(b, "resources.json")
	if err := os.WriteFile(resources, []byte(`{"memory":{"limit":67108864},"pids":{"limit":50}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r.ok("update", "--resources", resources, "c1")
	var ev struct {
		Type string
		Data struct {
			Memory struct{ Usage struct{ Limit uint64 } }
			Pids   struct{ Limit uint64 }
		}
	}
	if err := json.Unmarshal([]byte(r.ok("events", "--stats", "c1").stdout), &ev); err != nil || ev.Type != "stats" ||
		ev.Data.Memory.Usage.Limit != 67108864 || ev.Data.Pids.Limit != 50 {
		t.Fatalf("events --stats after update: %+v %v, want memory limit 64 MiB and pids limit 50", ev, err)
	}
	r.ok("pause", "c1")
	r.waitStatus("c1", "paused")
	r.ok("resume", "c1")
	r.waitStatus("c1", "running")
	if res := r.run("delete", "c1"); res.code != 1 {
		t.Fatalf("delete of a running container: %s, want exit 1", res)
	}
	r.ok("kill", "c1", "KILL")
	r.waitStatus("c1", "stopped")
	if res := r.run("kill", "c1"); res.code != 1 || !strings.Contains(res.stderr, "not running") {
		t.Fatalf("kill of a stopped container: %s, want exit 1, not running", res)
	}
	r.ok("delete", "c1")
	assertEmpty(t, r, "c1")
}

// TestBadInput: unknown containers, a duplicate create, a malformed
// config, a missing bundle and a bad id get runc's exit code and words,
// and leave nothing behind.
func TestBadInput(t *testing.T) {
	need(t)
	runcBin, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("runc not installed (Debian runc: make deps)")
	}
	good := bundle(t, "sleep", "1000")
	noexec := bundle(t, "/nonexistent")
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "config.json"), []byte("{bad"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		setup  []string // run first, must succeed
		args   []string
		code   int
		stderr string // in both runtimes' stderr
	}{
		{"state unknown", nil, []string{"state", "nope"}, 1, "container does not exist"},
		{"start unknown", nil, []string{"start", "nope"}, 1, "container does not exist"},
		{"kill unknown", nil, []string{"kill", "nope", "KILL"}, 1, "container does not exist"},
		{"delete unknown", nil, []string{"delete", "nope"}, 1, "container does not exist"},
		{"delete --force unknown", nil, []string{"delete", "--force", "nope"}, 0, ""},
		{"exec unknown", nil, []string{"exec", "nope", "true"}, 255, "exec failed: container does not exist"},
		{"duplicate create", []string{"create", "--bundle", good, "dup"}, []string{"create", "--bundle", good, "dup"}, 1, "container with given ID already exists"},
		{"malformed config", nil, []string{"create", "--bundle", bad, "m"}, 1, "runc create failed"},
		{"missing bundle", nil, []string{"create", "--bundle", filepath.Join(bad, "nonexistent"), "b"}, 1, "runc create failed"},
		{"bad id", nil, []string{"create", "--bundle", good, "a/b"}, 1, "invalid container ID format"},
		// Fails inside the driver, after the stand-in and the container's
		// init were started: both are rolled back.
		{"missing executable", nil, []string{"create", "--bundle", noexec, "x"}, 1, "/nonexistent: no such file or directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, bin := range []string{runcBin, rtdRunc()} {
				r := newRuntime(t, bin)
				if c.setup != nil {
					r.ok(c.setup...)
				}
				res := r.run(c.args...)
				if res.code != c.code || !strings.Contains(res.stderr, c.stderr) {
					t.Errorf("%s %v: %s, want exit %d and %q", filepath.Base(bin), c.args, res, c.code, c.stderr)
				}
				if c.setup != nil {
					r.ok("delete", "--force", "dup")
				}
				// A failed create must leave nothing: no delete before this.
				assertEmpty(t, r, "dup", "m", "b", "x")
			}
		})
	}
}

// assertEmpty fails unless r has no container and rtd-runc left no record,
// no stand-in process, no state of the driver's and no cgroup of ids
// behind.
func assertEmpty(t *testing.T, r *runtime, ids ...string) {
	t.Helper()
	if res := r.ok("list", "-q"); strings.TrimSpace(res.stdout) != "" {
		t.Errorf("%s list: %q, want none", filepath.Base(r.bin), res.stdout)
	}
	if ents, _ := os.ReadDir(filepath.Join(r.root, "containers")); len(ents) > 0 {
		t.Errorf("%s left records: %v", filepath.Base(r.bin), ents)
	}
	if pids := standins(r.root); len(pids) > 0 {
		t.Errorf("stand-ins %v of root %s left running", pids, r.root)
	}
	for _, id := range ids {
		// The drivers' state of id: ROOT/drivers/NAME/KIND/ID (the linux
		// driver's process dir c/ID and libcontainer's lc/ID).
		if left, _ := filepath.Glob(filepath.Join(r.root, "drivers", "*", "*", id)); len(left) > 0 {
			t.Errorf("driver state of %s left: %v", id, left)
		}
		// The linux driver's cgroup of a container whose spec names none.
		cg := ocispec.CgroupsPath(filepath.Join(r.root, "drivers", "linux"), id)
		if left, _ := filepath.Glob("/sys/fs/cgroup/*" + cg); len(left) > 0 {
			t.Errorf("cgroups of %s left: %v", id, left)
		}
	}
}

// standins lists the live stand-in processes of rtd-runc root dir.
func standins(root string) []int {
	var pids []int
	for _, pid := range testutil.Pids() {
		dir := filepath.Join("/proc", strconv.Itoa(pid))
		cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		if !strings.HasPrefix(string(cmdline), "rtd-runc-standin\x00") {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join(dir, "stat"))
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i:]), ") Z") {
			continue // exited, not yet reaped
		}
		env, _ := os.ReadFile(filepath.Join(dir, "environ"))
		if strings.Contains(string(env), "RTD_RUNC_ROOT="+root+"\x00") {
			pids = append(pids, pid)
		}
	}
	return pids
}
