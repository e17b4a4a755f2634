package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rtd-project/rtd/bench"
)

// containerd compares rtd run --rm with `ctr run --rm` of the same root
// filesystem, against a throwaway containerd with its own root, state and
// socket (Debian's containerd 1.6 and its runc shim).
func (e *env) containerd(res *results) error {
	if _, err := exec.LookPath("containerd"); err != nil {
		return fmt.Errorf("containerd is not installed (apt-get install containerd)")
	}
	dir := filepath.Join(e.work, "containerd")
	sock := filepath.Join(dir, "containerd.sock")
	cfg := filepath.Join(dir, "config.toml")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(cfg, []byte("version = 2\n"), 0o600); err != nil {
		return err
	}
	daemon := exec.Command("containerd", "--config", cfg, "--address", sock,
		"--root", filepath.Join(dir, "root"), "--state", filepath.Join(dir, "state"))
	daemon.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	daemon.Stdout, daemon.Stderr = logf, logf
	if err := daemon.Start(); err != nil {
		return err
	}
	defer func() {
		_ = syscall.Kill(-daemon.Process.Pid, syscall.SIGTERM)
		_ = daemon.Wait()
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("containerd did not come up (see %s)", logf.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
	p, err := bench.AB("linux: rtd run --rm vs ctr run --rm (containerd 1.6)", "rtd run --rm", "ctr run --rm", e.o.n,
		e.rtd("run", "--rm", e.bundle),
		e.fresh(func(id string) bench.Sample {
			return timed("ctr", "--address", sock, "--namespace", "rtdbench", "run", "--rm", "--rootfs", e.rootfs, id, "/bin/true")
		}))
	if err != nil {
		return err
	}
	met := p.Ratio > 0 && p.Ratio <= 1.0/3
	p.Goal, p.Met = "rtd at least 3x faster (ratio <= 0.33x)", &met
	res.Pairs = append(res.Pairs, p)
	return nil
}
