//go:build linux

package containerd

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestContainerdKilled: containerd SIGKILLed and restarted while
// containers run: they keep running, ctr and crictl show them, and their
// exit codes are right when they end.
func TestContainerdKilled(t *testing.T) {
	d := startContainerd(t)
	d.importImages()
	survivor := uid("survivor")
	args := append([]string{"run", "-d"}, d.runtimeFlags("linux")...)
	ok(t, d.ctr(append(args, busyboxImage, survivor, "sh", "-c", "sleep 6; exit 7")...))
	d.waitStatus(survivor, "RUNNING")
	podCfg := d.writeJSON("pod.json", podConfig("pod-kill"))
	pod := strings.TrimSpace(ok(t, d.crictl("runp", "--runtime", "rtd-linux", podCfg)).stdout)
	c1 := strings.TrimSpace(ok(t, d.crictl("create", pod, d.writeJSON("c.json", containerConfig("c1", "sleep", "1000")), podCfg)).stdout)
	ok(t, d.crictl("start", c1))

	d.kill()
	d.start()

	d.waitStatus(survivor, "RUNNING")
	if r := ok(t, d.crictl("ps", "-q")); !strings.Contains(r.stdout, c1) {
		t.Errorf("crictl ps does not show %s after the restart: %s", c1, r)
	}
	d.waitStatus(survivor, "STOPPED")
	if r := ok(t, d.ctr("task", "rm", survivor)); !strings.Contains(r.stderr, "exit code 7") {
		t.Errorf("want exit code 7 after the restart: %s", r)
	}
	ok(t, d.ctr("containers", "rm", survivor))
	ok(t, d.crictl("stop", "--timeout", "2", c1))
	ok(t, d.crictl("rm", c1))
	ok(t, d.crictl("stopp", pod))
	ok(t, d.crictl("rmp", pod))
	assertNoShimState(t, survivor)
	assertNoShimState(t, c1)
}

// shimPid finds the shim process serving task id of this containerd.
func (d *daemon) shimPid(id string) int {
	d.t.Helper()
	for _, pid := range pids() {
		args := cmdline(pid)
		if len(args) > 0 && filepath.Base(args[0]) == "containerd-shim-rtd-v2" &&
			strings.Contains(strings.Join(args, " "), "-id "+id+" -address "+d.sock) {
			return pid
		}
	}
	d.t.Fatalf("no shim process for %s", id)
	return 0
}

// shims lists the rtd shim processes of this containerd (also those run
// as containerd-shim-rtd-DRIVER-v2).
func (d *daemon) shims() []int {
	var out []int
	for _, pid := range pids() {
		args := cmdline(pid)
		if len(args) > 0 && strings.HasPrefix(filepath.Base(args[0]), "containerd-shim-rtd-") &&
			strings.Contains(strings.Join(args, " "), "-address "+d.sock) {
			out = append(out, pid)
		}
	}
	return out
}

// childrenNamed lists the children of parent whose comm starts with prefix.
func childrenNamed(parent int, prefix string) []int {
	var out []int
	for _, pid := range pids() {
		st, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		s := string(st)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		comm := s[strings.IndexByte(s, '(')+1 : i]
		if len(f) > 1 && f[1] == strconv.Itoa(parent) && strings.HasPrefix(comm, prefix) {
			out = append(out, pid)
		}
	}
	return out
}

func pids() []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

func cmdline(pid int) []string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		st, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil || strings.Contains(string(st), ") Z ") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("process %d still there", pid)
}

// TestShimDriverKilled: the shim's driver process SIGKILLed: the container
// keeps running, the next calls work (a relaunched driver), and its exit
// status is right.
func TestShimDriverKilled(t *testing.T) {
	d := startContainerd(t)
	d.importImages()
	drvkill := uid("drvkill")
	args := append([]string{"run", "-d"}, d.runtimeFlags("linux")...)
	ok(t, d.ctr(append(args, busyboxImage, drvkill, "sleep", "1000")...))
	d.waitStatus(drvkill, "RUNNING")
	shim := d.shimPid(drvkill)
	drivers := childrenNamed(shim, "rtd-driver-")
	if len(drivers) != 1 {
		t.Fatalf("want one driver process under shim %d, found %v", shim, drivers)
	}
	if err := syscall.Kill(drivers[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, drivers[0])

	d.waitStatus(drvkill, "RUNNING")
	if r := d.ctr("task", "exec", "--exec-id", "after", drvkill, "sh", "-c", "echo still-here; exit 9"); r.code != 9 || r.stdout != "still-here\n" {
		t.Errorf("exec after the driver died: %s", r)
	}
	ok(t, d.ctr("task", "ps", drvkill))
	if got := childrenNamed(shim, "rtd-driver-"); len(got) != 1 || got[0] == drivers[0] {
		t.Errorf("want one relaunched driver under the shim, found %v", got)
	}
	ok(t, d.ctr("task", "kill", "-s", "SIGTERM", drvkill))
	ok(t, d.ctr("task", "kill", "-s", "SIGKILL", drvkill))
	d.waitStatus(drvkill, "STOPPED")
	if r := ok(t, d.ctr("task", "rm", drvkill)); !strings.Contains(r.stderr, "exit code 137") {
		t.Errorf("want exit code 137 (SIGKILL): %s", r)
	}
	ok(t, d.ctr("containers", "rm", drvkill))
	assertNoShimState(t, drvkill)
}

// TestShimKilled: the shim SIGKILLed: containerd reports the task gone and
// its cleanup (`containerd-shim-rtd-v2 delete`) leaves no process, mount,
// cgroup or state directory.
func TestShimKilled(t *testing.T) {
	d := startContainerd(t)
	d.importImages()
	before := shimRoots()
	shimkill := uid("shimkill")
	args := append([]string{"run", "-d"}, d.runtimeFlags("linux")...)
	ok(t, d.ctr(append(args, busyboxImage, shimkill, "sleep", "1000")...))
	d.waitStatus(shimkill, "RUNNING")
	shim := d.shimPid(shimkill)
	if err := syscall.Kill(shim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, shim)
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := d.ctr("task", "ls")
		if !strings.Contains(r.stdout, shimkill) || strings.Contains(r.stdout, "STOPPED") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd still reports the task running: %s", r)
		}
		time.Sleep(200 * time.Millisecond)
	}
	d.ctr("task", "rm", "-f", shimkill)
	ok(t, d.ctr("containers", "rm", shimkill))
	assertNoShimState(t, shimkill)
	for r := range shimRoots() {
		if !before[r] {
			t.Errorf("shim root left: %s", r)
		}
	}
}

func shimRoots() map[string]bool {
	entries, _ := os.ReadDir("/run/rtd/containerd")
	out := map[string]bool{}
	for _, e := range entries {
		out[e.Name()] = true
	}
	return out
}

// TestBadOptions: an unknown driver, a driver not ready here (windows), a
// malformed or misspelled options file: the task is not created, the error
// says why, and nothing is left.
func TestBadOptions(t *testing.T) {
	d := startContainerd(t)
	d.importImages()
	before := shimRoots()
	for i, c := range []struct{ body, want string }{
		{`driver = "nope"`, `driver "nope" not found`},
		{`driver = "windows"`, `driver "windows" is not ready on this host`},
		{`driver = `, `malformed TOML`},
		{`drvier = "linux"`, `unknown keys drvier`},
	} {
		p := filepath.Join(d.dir, "bad"+strconv.Itoa(i)+".toml")
		if err := os.WriteFile(p, []byte(c.body+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		id := uid("bad" + strconv.Itoa(i))
		r := d.ctr("run", "--rm", "--runtime", "io.containerd.rtd.v2", "--runtime-config-path", p, busyboxImage, id, "true")
		if r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("options %q: want a failure saying %q: %s", c.body, c.want, r)
		}
		if r := d.ctr("task", "ls", "-q"); strings.Contains(r.stdout, id) {
			t.Errorf("task %s left: %s", id, r)
		}
		d.ctr("containers", "rm", id)
		assertNoShimState(t, id)
	}
	for r := range shimRoots() {
		if !before[r] {
			t.Errorf("shim root left: %s", r)
		}
	}
}
