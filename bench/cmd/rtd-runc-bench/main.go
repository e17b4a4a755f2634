//go:build linux

// Command rtd-runc-bench measures rtd-runc against runc under the engines
// that drive them, in one run with alternating samples (package bench):
// `podman run --rm --rootfs DIR /bin/true` with --runtime rtd-runc and with
// --runtime runc (same podman, same root), and `docker run --rm` with
// --runtime rtd and the default runc (same private dockerd). As root, after
// make build and hack/runc-engines.sh; make bench-runc runs it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/internal/testutil"
)

func main() {
	bin := flag.String("bin", "bin", "directory holding rtd-runc and the drivers")
	n := flag.Int("n", 11, "samples of each side")
	out := flag.String("out", "", "write the results as JSON to this file")
	flag.Parse()
	if err := run(*bin, *n, *out); err != nil {
		fmt.Fprintln(os.Stderr, "rtd-runc-bench:", err)
		os.Exit(1)
	}
}

func run(bin string, n int, out string) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	rtdRunc := filepath.Join(bin, "rtd-runc")
	runc, err := exec.LookPath("runc")
	if err != nil {
		return fmt.Errorf("runc not found (make deps)")
	}
	dir, err := os.MkdirTemp("", "rrb")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rootfs := filepath.Join(dir, "rootfs")
	if err := busybox(rootfs); err != nil {
		return err
	}
	res := &bench.Results{Machine: map[string]string{"date": time.Now().UTC().Format(time.RFC3339)}}
	if p, err := podman(dir, rootfs, rtdRunc, runc, n); err != nil {
		res.Failed = append(res.Failed, err.Error())
	} else {
		res.Pairs = append(res.Pairs, p)
	}
	if p, err := docker(dir, rootfs, rtdRunc, n); err != nil {
		res.Failed = append(res.Failed, err.Error())
	} else {
		res.Pairs = append(res.Pairs, p)
	}
	fmt.Println("| comparison | rtd-runc median | runc median | ratio | samples |\n|---|---|---|---|---|")
	for _, p := range res.Pairs {
		fmt.Printf("| %s | %v | %v | %.2fx | %d |\n", p.Name, p.MedianA.Round(time.Millisecond), p.MedianB.Round(time.Millisecond), p.Ratio, p.N)
	}
	for _, f := range res.Failed {
		fmt.Println("failed:", f)
	}
	if out != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(out, b, 0o644); err != nil {
			return err
		}
	}
	if len(res.Failed) > 0 {
		return fmt.Errorf("%d comparisons failed", len(res.Failed))
	}
	return nil
}

// timed runs a command and returns its duration; a non-zero exit is an error.
func timed(env []string, name string, args ...string) bench.Sample {
	return func() (time.Duration, error) {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), env...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			return 0, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
		}
		return d, nil
	}
}

func podman(dir, rootfs, rtdRunc, runc string, n int) (*bench.Pair, error) {
	conf := filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(conf, []byte("[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"), 0o644); err != nil {
		return nil, err
	}
	env := []string{"CONTAINERS_CONF=" + conf}
	args := func(runtime string) []string {
		return []string{"--root", filepath.Join(dir, "proot"), "--runroot", filepath.Join(dir, "prun"), "--tmpdir", filepath.Join(dir, "ptmp"),
			"--cgroup-manager", "cgroupfs", "--events-backend", "file", "--storage-driver", "vfs", "--runtime", runtime,
			"--runtime-flag", "root=" + filepath.Join(dir, "rt-"+filepath.Base(runtime)),
			"run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--rootfs", rootfs, "/bin/true"}
	}
	return bench.AB("podman run --rm --rootfs /bin/true", "rtd-runc (linux)", "runc", n,
		timed(env, "podman", args(rtdRunc)...), timed(env, "podman", args(runc)...))
}

func docker(dir, rootfs, rtdRunc string, n int) (_ *bench.Pair, retErr error) {
	sock := "unix://" + filepath.Join(dir, "d.sock")
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	d := exec.Command("dockerd", "--data-root", filepath.Join(dir, "ddata"), "--exec-root", filepath.Join(dir, "dexec"),
		"--pidfile", filepath.Join(dir, "d.pid"), "-H", sock, "--iptables=false", "--ip-masq=false", "--ip-forward=false",
		"--bridge=none", "--add-runtime", "rtd="+rtdRunc)
	d.Stdout, d.Stderr = logf, logf
	d.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.Start(); err != nil {
		return nil, fmt.Errorf("dockerd: %w", err)
	}
	defer func() {
		_ = d.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = d.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-d.Process.Pid, syscall.SIGKILL)
			<-done
		}
		testutil.UnmountUnder(dir)
	}()
	dk := func(args ...string) error {
		out, err := exec.Command("/usr/bin/docker", append([]string{"-H", sock}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	deadline := time.Now().Add(60 * time.Second)
	for dk("version") != nil {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("dockerd did not answer within 60s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	tarPath := filepath.Join(dir, "rootfs.tar")
	if out, err := exec.Command("tar", "-C", rootfs, "-cf", tarPath, ".").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("tar: %v: %s", err, out)
	}
	if err := dk("import", tarPath, "rtd-bench:bb"); err != nil {
		return nil, err
	}
	args := func(runtime string) []string {
		return []string{"-H", sock, "run", "--rm", "--network", "none", "--runtime", runtime, "rtd-bench:bb", "/bin/true"}
	}
	return bench.AB("docker run --rm /bin/true", "--runtime rtd", "--runtime runc", n,
		timed(nil, "/usr/bin/docker", args("rtd")...), timed(nil, "/usr/bin/docker", args("runc")...))
}

// busybox makes a root filesystem of the host's busybox with /bin/true.
func busybox(root string) error {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		return fmt.Errorf("busybox not found (make deps installs busybox-static)")
	}
	for _, d := range []string{"bin", "proc", "dev", "sys", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), data, 0o755); err != nil {
		return err
	}
	for _, a := range []string{"true", "sh"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", a)); err != nil {
			return err
		}
	}
	return nil
}
