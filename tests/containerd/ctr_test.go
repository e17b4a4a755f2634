//go:build linux

package containerd

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runtimeFlags select the rtd shim and, through a runtime options file
// (runtimeoptions.v1 ConfigPath), the driver.
func (d *daemon) runtimeFlags(drv string) []string {
	d.t.Helper()
	p := filepath.Join(d.dir, drv+".toml")
	if err := os.WriteFile(p, []byte(fmt.Sprintf("driver = %q\n", drv)), 0o600); err != nil {
		d.t.Fatal(err)
	}
	return []string{"--runtime", "io.containerd.rtd.v2", "--runtime-config-path", p}
}

// seqOutput is what `seq 1 n` prints.
func seqOutput(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('\n')
	}
	return b.String()
}

// TestCtrRun: `ctr run --rm` on each driver delivers the whole stdout and
// the exit code.
func TestCtrRun(t *testing.T) {
	d := startContainerd(t)
	d.importImages()
	for _, drv := range rtdHandlers {
		t.Run(drv, func(t *testing.T) {
			d.t = t
			id := uid("run-" + drv)
			args := append([]string{"run", "--rm"}, d.runtimeFlags(drv)...)
			args = append(args, busyboxImage, id, "sh", "-c", "seq 1 20000; echo to-stderr >&2; exit 42")
			r := d.ctr(args...)
			if r.code != 42 {
				t.Fatalf("want exit 42: %s", r)
			}
			if r.stdout != seqOutput(20000) {
				t.Fatalf("stdout not intact: %d bytes, want %d: %s", len(r.stdout), len(seqOutput(20000)), r)
			}
			if !strings.Contains(r.stderr, "to-stderr") {
				t.Errorf("stderr lost: %s", r)
			}
			if out := d.ctr("task", "ls", "-q").stdout; strings.Contains(out, id) {
				t.Errorf("task left after run --rm: %q", out)
			}
			assertNoShimState(t, id)
		})
	}
}

// runTag makes the container ids of this test binary its own: containerd
// names a container's cgroup /<namespace>/<id>, and the leftover checks
// scan every process, mount and cgroup of the host, so two runs of these
// tests at once (make test beside a targeted go test) with the same ids
// would share cgroups and take each other's processes for leftovers.
var runTag = strconv.Itoa(os.Getpid())

// uid is the container id name made unique to this test binary.
func uid(name string) string { return name + "-" + runTag }

// waitStatus polls `ctr task ls` until task id has status want.
func (d *daemon) waitStatus(id, want string) {
	d.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		last = d.ctr("task", "ls").stdout
		for _, line := range strings.Split(last, "\n") {
			f := strings.Fields(line)
			if len(f) >= 3 && f[0] == id && f[2] == want {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.t.Fatalf("task %s not %s within 60s; ctr task ls:\n%s", id, want, last)
}

// assertNoShimState checks that no shim root or bundle record of id is
// left, and no process mentions it.
func assertNoShimState(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := leftovers(id)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("left behind for %s: %s", id, strings.Join(left, "; "))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// leftovers lists processes, mounts and cgroups that name id.
func leftovers(id string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(cmdline), "/"+id+"\x00") || strings.Contains(string(cmdline), "\x00"+id+"\x00") {
			out = append(out, "process "+e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(mi), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (strings.Contains(f[4], "/"+id+"/") || strings.HasSuffix(f[4], "/"+id)) {
			out = append(out, "mount: "+line)
		}
	}
	ctrls, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, c := range ctrls {
		_ = filepath.WalkDir(c, func(p string, de os.DirEntry, err error) error {
			if err != nil || !de.IsDir() {
				return nil
			}
			if strings.Count(strings.TrimPrefix(p, c), "/") > 4 {
				return filepath.SkipDir
			}
			if de.Name() == id {
				out = append(out, "cgroup "+p)
				return filepath.SkipDir
			}
			return nil
		})
	}
	return out
}
