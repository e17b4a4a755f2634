//go:build linux

package runc

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtd-project/rtd/internal/testutil"
	"github.com/rtd-project/rtd/internal/testutil/testimage"
)

// engineTimeout bounds each engine command.
const engineTimeout = 2 * time.Minute

// installEngine installs podman or docker.io (hack/runc-engines.sh, a no-op
// when present).
func installEngine(t *testing.T, name string) {
	t.Helper()
	root, err := testutil.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, "hack", "runc-engines.sh"), name)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/runc-engines.sh %s: %v\n%s", name, err, out)
	}
}

// runCmd runs name with args and env; stdout and stderr are collected.
func runCmd(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		res.code = -1
		res.stderr += err.Error()
	}
	return res
}

// TestPodman: podman --runtime rtd-runc runs a container from a root
// filesystem directory with its output and exit code, and exec and stop
// work on a running one. The ulimits are needed with any runtime here
// (root lacks CAP_SYS_RESOURCE; docs/runc.md).
func TestPodman(t *testing.T) {
	need(t)
	installEngine(t, "podman")
	dir, err := os.MkdirTemp("", "rpod") // short: conmon's socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.UnmountUnder(dir); os.RemoveAll(dir) })
	conf := filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(conf, []byte("[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rootfs := testutil.BusyboxRootfs(t)
	env := []string{"CONTAINERS_CONF=" + conf}
	podman := func(args ...string) result {
		t.Helper()
		base := []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"), "--tmpdir", filepath.Join(dir, "tmp"),
			"--cgroup-manager", "cgroupfs", "--events-backend", "file", "--storage-driver", "vfs",
			"--runtime", rtdRunc(), "--runtime-flag", "root=" + filepath.Join(dir, "rtd")}
		return runCmd(t, env, "podman", append(base, args...)...)
	}
	cgParent := "rtdrunc-" + filepath.Base(dir) // private, removed at the end
	t.Cleanup(func() { removeCgroup(cgParent) })
	run := []string{"--network", "none", "--cgroup-parent", "/" + cgParent, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--rootfs", rootfs}
	t.Cleanup(func() { podman("rm", "-af", "-t", "0") })
	res := podman(append(append([]string{"run", "--rm"}, run...), "sh", "-c", "echo out; exit 42")...)
	if res.code != 42 || res.stdout != "out\n" {
		t.Fatalf("podman run: %s, want exit 42 and out", res)
	}
	if res := podman(append(append([]string{"run", "-d", "--name", "s1"}, run...), "sleep", "1000")...); res.code != 0 {
		t.Fatalf("podman run -d: %s", res)
	}
	if res := podman("exec", "s1", "sh", "-c", "echo in; exit 5"); res.code != 5 || res.stdout != "in\n" {
		t.Fatalf("podman exec: %s, want exit 5 and in", res)
	}
	if res := podman("stop", "-t", "1", "s1"); res.code != 0 {
		t.Fatalf("podman stop: %s", res)
	}
	if res := podman("inspect", "s1", "--format", "{{.State.ExitCode}} {{.State.Status}}"); strings.TrimSpace(res.stdout) != "137 exited" {
		t.Fatalf("podman inspect after stop: %s, want 137 exited (sleep as pid 1 ignores SIGTERM)", res)
	}
	if res := podman("rm", "s1"); res.code != 0 {
		t.Fatalf("podman rm: %s", res)
	}
	if pids := standins(filepath.Join(dir, "rtd")); len(pids) > 0 {
		t.Errorf("stand-ins left: %v", pids)
	}
}

// TestDocker: a private dockerd (own data-root, exec-root, pidfile and
// socket; no bridge, no iptables rules) with rtd-runc as runtimes "rtd"
// (linux) and "rtd-gvisor": docker run output and exit code, exec, stop
// and kill. The image is the shared test image builder's busybox
// (internal/testutil/testimage), written as `docker save` does and
// `docker load`ed (no registry).
func TestDocker(t *testing.T) {
	need(t)
	installEngine(t, "docker")
	docker, dir := startDockerd(t)
	tarPath := filepath.Join(dir, "busybox.tar")
	img := testimage.Image(t, testimage.Config{Cmd: []string{"sh"}}, testimage.Busybox(t))
	testimage.WriteDockerTar(t, tarPath, "rtd-busybox:test", img)
	if res := docker("load", "-i", tarPath); res.code != 0 {
		t.Fatalf("docker load: %s", res)
	}
	for _, rt := range []string{"rtd", "rtd-gvisor"} {
		t.Run(rt, func(t *testing.T) { dockerLifecycle(t, docker, rt) })
	}
}

// startDockerd starts the private dockerd of TestDocker, stopped and
// cleaned up with the test; docker runs the docker CLI against it.
func startDockerd(t *testing.T) (docker func(args ...string) result, dir string) {
	dir, err := os.MkdirTemp("", "rdk")
	if err != nil {
		t.Fatal(err)
	}
	sock := "unix://" + filepath.Join(dir, "d.sock")
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cgParent := "rtdrunc-" + filepath.Base(dir) // private, removed at the end
	d := exec.Command("dockerd", "--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "d.pid"), "-H", sock, "--iptables=false", "--ip-masq=false", "--ip-forward=false",
		"--bridge=none", "--cgroup-parent", "/"+cgParent,
		"--add-runtime", "rtd="+rtdRunc(), "--add-runtime", "rtd-gvisor="+filepath.Join(binDir, "rtd-runc-gvisor"))
	d.Stdout, d.Stderr = logf, logf
	d.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = d.Wait(); logf.Close(); close(done) }()
	docker = func(args ...string) result {
		t.Helper()
		return runCmd(t, nil, "/usr/bin/docker", append([]string{"-H", sock}, args...)...)
	}
	t.Cleanup(func() {
		for _, id := range strings.Fields(docker("ps", "-aq").stdout) {
			docker("rm", "-f", id)
		}
		_ = d.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-d.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			t.Logf("dockerd log:\n%s", short(string(b)))
		}
		testutil.UnmountUnder(dir)
		os.RemoveAll(dir)
		removeCgroup(cgParent)
	})
	deadline := time.Now().Add(60 * time.Second)
	for docker("version").code != 0 {
		if time.Now().After(deadline) {
			t.Fatal("dockerd did not answer within 60s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	return docker, dir
}

// dockerLifecycle runs, execs, stops, starts, kills and removes a
// container on runtime rt.
func dockerLifecycle(t *testing.T, docker func(args ...string) result, rt string) {
	res := docker("run", "--rm", "--network", "none", "--runtime", rt, "rtd-busybox:test", "sh", "-c", "echo out; exit 42")
	if res.code != 42 || res.stdout != "out\n" {
		t.Fatalf("docker run: %s, want exit 42 and out", res)
	}
	name := "s-" + rt
	if res := docker("run", "-d", "--name", name, "--network", "none", "--runtime", rt, "rtd-busybox:test", "sleep", "1000"); res.code != 0 {
		t.Fatalf("docker run -d: %s", res)
	}
	if res := docker("exec", name, "sh", "-c", "echo in; exit 5"); res.code != 5 || res.stdout != "in\n" {
		t.Fatalf("docker exec: %s, want exit 5 and in", res)
	}
	if res := docker("stop", "-t", "1", name); res.code != 0 {
		t.Fatalf("docker stop: %s", res)
	}
	// sleep as pid 1 ignores SIGTERM on linux (SIGKILL after the
	// timeout: 137); gVisor's pid 1 is killed by it (143), as with
	// runsc itself.
	if res := docker("inspect", name, "--format", "{{.State.ExitCode}}"); strings.TrimSpace(res.stdout) != "137" && strings.TrimSpace(res.stdout) != "143" {
		t.Fatalf("docker inspect after stop: %s, want 137 or 143", res)
	}
	if res := docker("start", name); res.code != 0 {
		t.Fatalf("docker start: %s", res)
	}
	if res := docker("kill", name); res.code != 0 {
		t.Fatalf("docker kill: %s", res)
	}
	if res := docker("inspect", name, "--format", "{{.State.ExitCode}} {{.State.Status}}"); strings.TrimSpace(res.stdout) != "137 exited" {
		t.Fatalf("docker inspect after kill: %s, want 137 exited", res)
	}
	if res := docker("rm", name); res.code != 0 {
		t.Fatalf("docker rm: %s", res)
	}
}
