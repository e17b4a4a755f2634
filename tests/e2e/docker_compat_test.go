//go:build linux

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dockerBin is Debian's docker.io client (20.10); another docker on PATH
// (a newer CLI in /usr/local/bin) is not the one compared against.
const dockerBin = "/usr/bin/docker"

// dockerImage is the image hack/docker.sh builds from busybox-static.
const dockerImage = "rtd-busybox:test"

// dockerd is a docker daemon of the test's own: its own data root, exec
// root and socket under a temporary directory, no TCP port, no bridge, no
// iptables rules; stopped by its pid.
type dockerd struct {
	dir, sock string
	cmd       *exec.Cmd
}

// startDockerd installs docker.io (hack/docker.sh, idempotent), starts a
// daemon and loads the busybox image into it.
func startDockerd(t *testing.T) *dockerd {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "hack", "docker.sh")
	if out, err := exec.Command(script).CombinedOutput(); err != nil {
		t.Fatalf("hack/docker.sh: %v\n%s", err, out)
	}
	dir, err := os.MkdirTemp("", "rtdd")
	if err != nil {
		t.Fatal(err)
	}
	d := &dockerd{dir: dir, sock: filepath.Join(dir, "docker.sock")}
	image := filepath.Join(dir, "image.tar")
	if out, err := exec.Command(script, "image", image).CombinedOutput(); err != nil {
		t.Fatalf("hack/docker.sh image: %v\n%s", err, out)
	}
	log, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command("/usr/sbin/dockerd", "--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"-H", "unix://"+d.sock, "--pidfile", filepath.Join(dir, "docker.pid"), "--bridge=none", "--iptables=false",
		"--ip-masq=false", "--ip-forward=false", "--userland-proxy=false", "--log-level=warn")
	d.cmd.Stdout, d.cmd.Stderr = log, log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.stop(t) })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := exec.Command(dockerBin, "-H", "unix://"+d.sock, "version").Run(); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("dockerd did not answer in 60s:\n%s", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := d.docker("load", "-i", image); r.code != 0 {
		t.Fatalf("docker load: %s", r)
	}
	return d
}

func (d *dockerd) docker(args ...string) result {
	cmd := exec.Command(dockerBin, append([]string{"-H", "unix://" + d.sock}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return result{args: append([]string{"(docker)"}, args...), stdout: stdout.String(), stderr: stderr.String(), code: exitCode(err)}
}

// stop ends dockerd by its pid (SIGTERM, then SIGKILL to its group after
// 20s) and removes what it left: its self bind mount of the data root.
func (d *dockerd) stop(t *testing.T) {
	if r := d.docker("ps", "-aq"); r.code == 0 && strings.TrimSpace(r.stdout) != "" {
		d.docker(append([]string{"rm", "-f"}, strings.Fields(r.stdout)...)...)
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	var mounts []string
	for _, l := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], d.dir) {
			mounts = append(mounts, f[4])
		}
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := syscall.Unmount(mounts[i], syscall.MNT_DETACH); err != nil {
			t.Logf("unmount %s: %v", mounts[i], err)
		}
	}
	if err := os.RemoveAll(d.dir); err != nil {
		t.Logf("remove %s: %v", d.dir, err)
	}
}

// compareCase is one command run by both: IMAGE is the busybox image
// (docker's, or the same busybox as an rtd root filesystem), NAME a
// container name unique to the run.
type compareCase struct {
	args []string
	// stdout: compare stdout exactly (after docker->rtd in hints).
	stdout bool
	// stderr: a phrase both must print (case-insensitive; docker exec
	// prints its failures on stdout), "" for none.
	stderr string
	// hint: both end with "See '<cli> CMD --help'.".
	hint bool
	// codeDiffers says why rtd's exit code is not docker's, on purpose.
	codeDiffers string
}

// TestDockerCompat runs the same commands through rtd and Debian's
// docker.io side by side and wants the same exit codes, the same output
// where it is the container's or docker's contract (wait, inspect of
// nothing, rm -f of nothing), the same key words in the errors, and the
// same secure defaults (seccomp, capabilities).
func TestDockerCompat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := startDockerd(t)
	fs := rootfs(t)
	suffix := fmt.Sprintf("%d", time.Now().UnixNano()%1_000_000)
	name := func(n string) string { return "cmp-" + n + "-" + suffix }
	running, exited := name("running"), name("exited")
	for _, side := range []struct {
		run   func(...string) result
		image []string
	}{
		{e.rtd, []string{fs}},
		{d.docker, []string{"--network", "none", dockerImage}},
	} {
		if r := side.run(append(append([]string{"run", "-d", "--name", running}, side.image...), "sh", "-c", `trap "exit 3" TERM; while :; do sleep 0.1; done`)...); r.code != 0 {
			t.Fatalf("setup: %s", r)
		}
		if r := side.run(append(append([]string{"create", "--name", exited}, side.image...), "sh", "-c", "exit 3")...); r.code != 0 {
			t.Fatalf("setup: %s", r)
		}
	}
	cases := []compareCase{
		{args: []string{"rm", "nosuch"}, stderr: "no such container: nosuch"},
		{args: []string{"rm", "-f", "nosuch"}, stdout: true},
		{args: []string{"kill", "nosuch"}, stderr: "no such container"},
		{args: []string{"inspect", "nosuch"}, stdout: true},
		{args: []string{"wait", "nosuch"}, stderr: "no such container: nosuch"},
		{args: []string{"stop", "nosuch"}, stderr: "no such container: nosuch"},
		{args: []string{"start", "nosuch"}},
		{args: []string{"logs", "nosuch"}, stderr: "no such container: nosuch"},
		{args: []string{"pause", "nosuch"}, stderr: "no such container: nosuch"},
		{args: []string{"exec", "nosuch", "true"}, stderr: "no such container: nosuch"},
		{args: []string{"kill", "-s", "NOPE", running}, stderr: "signal"},
		{args: []string{"rm", running}, stderr: "running"},
		{args: []string{"run", "--nosuchflag", "IMAGE"}, stderr: "unknown flag: --nosuchflag", hint: true},
		{args: []string{"ps", "--nosuchflag"}, stderr: "unknown flag: --nosuchflag", hint: true},
		{args: []string{"stop", "-t", "x", running}, stderr: `invalid argument "x"`, hint: true},
		{args: []string{"rm"}, stderr: `"RTD rm" requires at least 1 argument`, hint: true},
		{args: []string{"logs"}, stderr: `"RTD logs" requires exactly 1 argument`, hint: true},
		{args: []string{"nosuchverb"}, stderr: "'nosuchverb' is not a RTD command"},
		{args: []string{"run", "--rm", "IMAGE", "sh", "-c", "echo out; echo err >&2; exit 3"}, stdout: true, stderr: "err"},
		{args: []string{"run", "--rm", "IMAGE", "nosuchcmd"}, stderr: "executable file not found"},
		// -it without a terminal on stdin (the test's stdin is /dev/null).
		{args: []string{"run", "--rm", "-it", "IMAGE", "true"}, stderr: "the input device is not a TTY"},
		{args: []string{"create", "-it", "--name", name("it"), "IMAGE", "true"}},
		{args: []string{"rm", name("it")}, stdout: true},
		{args: []string{"run", "--rm", "IMAGE", "/etc/passwd"}, stderr: "permission denied"},
		{args: []string{"exec", running, "nosuchcmd"}, stderr: "executable file not found"},
		{args: []string{"start", exited}, stdout: true},
		{args: []string{"wait", exited}, stdout: true, codeDiffers: "rtd wait exits with the container's code (docker's exits 0): scripts use it directly"},
		{args: []string{"inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}", exited}, stdout: true},
		{args: []string{"ps", "-a", "-q", "--filter", "name=" + exited, "--format", "{{.Names}} {{.State}}"}, stdout: true},
		// Secure defaults: docker's seccomp profile and capabilities.
		{args: []string{"run", "--rm", "IMAGE", "sh", "-c", seccompProbe}, stdout: true},
		{args: []string{"run", "--rm", "--security-opt", "seccomp=unconfined", "IMAGE", "sh", "-c", seccompProbe}, stdout: true},
		{args: []string{"run", "--rm", "IMAGE", "grep", "-E", "^Cap(Prm|Eff|Bnd)", "/proc/self/status"}, stdout: true},
		{args: []string{"run", "--rm", "--cap-drop", "ALL", "--cap-add", "NET_ADMIN", "IMAGE", "grep", "CapBnd", "/proc/self/status"}, stdout: true},
		{args: []string{"run", "--rm", "--entrypoint", "echo", "IMAGE", "a", "b"}, stdout: true},
		{args: []string{"run", "--rm", "--ulimit", "nofile=100:200", "IMAGE", "sh", "-c", "ulimit -n; ulimit -Hn"}, stdout: true},
		{args: []string{"run", "--rm", "--init", "IMAGE", "sh", "-c", "exit 4"}},
		// --log-opt chooses the labels and variables logs --details shows.
		{args: []string{"run", "-d", "--name", name("details"), "-l", "app=web", "-l", "x=y", "-e", "ZONE=b c", "--log-opt", "labels=app",
			"--log-opt", "env=ZONE", "IMAGE", "sh", "-c", "echo hi; echo err >&2"}},
		{args: []string{"wait", name("details")}, stdout: true},
		{args: []string{"logs", "--details", name("details")}, stdout: true, stderr: "ZONE=b+c,app=web err"},
		{args: []string{"rm", name("details")}, stdout: true},
		// stop: SIGTERM, the container's own exit code.
		{args: []string{"stop", running}, stdout: true},
		{args: []string{"inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", running}, stdout: true},
		{args: []string{"rm", running, exited}, stdout: true},
	}
	for _, c := range cases {
		rr := e.rtd(expand(c.args, []string{fs})...)
		dr := d.docker(expand(c.args, []string{"--network", "none", dockerImage})...)
		if c.codeDiffers != "" {
			t.Logf("%v: rtd exits %d, docker %d: %s", c.args, rr.code, dr.code, c.codeDiffers)
		} else if rr.code != dr.code {
			t.Errorf("%v: rtd exits %d, docker %d\n%s\n%s", c.args, rr.code, dr.code, rr, dr)
			continue
		}
		if c.stdout && rr.stdout != dr.stdout {
			t.Errorf("%v: stdout differs\n%s\n%s", c.args, rr, dr)
		}
		if c.stderr != "" {
			rtdWant := strings.ToLower(strings.ReplaceAll(c.stderr, "RTD", "rtd"))
			dockerWant := strings.ToLower(strings.ReplaceAll(c.stderr, "RTD", "docker"))
			if !strings.Contains(strings.ToLower(rr.stderr), rtdWant) || !strings.Contains(strings.ToLower(dr.stdout+dr.stderr), dockerWant) {
				t.Errorf("%v: want both to say %q\n%s\n%s", c.args, c.stderr, rr, dr)
			}
		}
		if c.hint {
			cmd := c.args[0]
			if !strings.Contains(rr.stderr, "See 'rtd "+cmd+" --help'.") || !strings.Contains(dr.stderr, "See 'docker "+cmd+" --help'.") {
				t.Errorf("%v: want the help hint from both\n%s\n%s", c.args, rr, dr)
			}
		}
	}
}

// expand replaces IMAGE in args with image (one or more words).
func expand(args, image []string) []string {
	var out []string
	for _, a := range args {
		if a == "IMAGE" {
			out = append(out, image...)
			continue
		}
		out = append(out, a)
	}
	return out
}
