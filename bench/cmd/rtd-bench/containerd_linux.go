package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/rtd-project/rtd/bench"
)

// benchImage is the name the root filesystem is imported under.
const benchImage = "docker.io/rtdbench/busybox:bench"

// containerd compares rtd run --rm with `ctr run --rm` of the same root
// filesystem imported as an image (what a containerd user runs), and with
// `ctr run --rm --rootfs` of the directory itself, against a throwaway
// containerd with its own root, state, socket and namespace (Debian's
// containerd and its runc shim).
func (e *env) containerd(res *bench.Results) error {
	if _, err := exec.LookPath("containerd"); err != nil {
		return skipf("containerd is not installed (make bench installs Debian's containerd; or apt-get install containerd)")
	}
	if _, err := exec.LookPath("ctr"); err != nil {
		return skipf("ctr is not installed (it comes with Debian's containerd)")
	}
	dir := filepath.Join(e.work, "containerd")
	sock := filepath.Join(dir, "containerd.sock")
	stop, err := startContainerd(dir, sock)
	if err != nil {
		return err
	}
	defer stop()
	ctr := func(args ...string) []string {
		return append([]string{"--address", sock, "--namespace", "rtdbench"}, args...)
	}
	archive := filepath.Join(dir, "image.tar")
	if err := writeImageArchive(archive, e.rootfs, benchImage, []string{"/bin/true"}); err != nil {
		return fmt.Errorf("image archive: %w", err)
	}
	if out, err := exec.Command("ctr", ctr("images", "import", archive)...).CombinedOutput(); err != nil {
		return fmt.Errorf("ctr images import: %v: %s", err, lastLines(string(out), 5))
	}
	p, err := bench.AB("linux: rtd run --rm vs ctr run --rm of the rootfs imported as an image (containerd)", "rtd run --rm", "ctr run --rm IMAGE", e.o.n,
		e.rtd("run", "--rm", "--driver", "linux", e.bundle),
		e.fresh(func(id string) bench.Sample {
			return timed("ctr", ctr("run", "--rm", benchImage, id, "/bin/true")...)
		}))
	if err != nil {
		return err
	}
	p.GoalFaster(3)
	res.Pairs = append(res.Pairs, p)
	p, err = bench.AB("linux: rtd run --rm vs ctr run --rm --rootfs DIR (containerd, no image)", "rtd run --rm", "ctr run --rm --rootfs", e.o.n,
		e.rtd("run", "--rm", "--driver", "linux", e.bundle),
		e.fresh(func(id string) bench.Sample {
			return timed("ctr", ctr("run", "--rm", "--rootfs", e.rootfs, id, "/bin/true")...)
		}))
	if err != nil {
		return err
	}
	res.Pairs = append(res.Pairs, p)
	return nil
}

// startContainerd runs a containerd of its own under dir (CRI disabled) and
// waits until it answers; stop ends it.
func startContainerd(dir, sock string) (stop func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"), 0o600); err != nil {
		return nil, err
	}
	daemon := exec.Command("containerd", "--config", cfg, "--address", sock,
		"--root", filepath.Join(dir, "root"), "--state", filepath.Join(dir, "state"))
	return startContainerdCmd(daemon, dir, 20*time.Second, nil, func() error {
		return exec.Command("ctr", "--address", sock, "version").Run()
	})
}

// startContainerdCmd starts daemon (a containerd) in a process group of
// its own, ended with it when the runner dies, its output in
// dir/containerd.log, and waits up to wait until ready succeeds. stop runs
// before (if any), then ends the group and waits for the daemon.
func startContainerdCmd(daemon *exec.Cmd, dir string, wait time.Duration, before func(), ready func() error) (stop func(), err error) {
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		return nil, err
	}
	daemon.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	daemon.Stdout, daemon.Stderr = logf, logf
	if err := daemon.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	stop = func() {
		if before != nil {
			before()
		}
		_ = syscall.Kill(-daemon.Process.Pid, syscall.SIGTERM)
		_ = daemon.Wait()
		logf.Close()
	}
	deadline := time.Now().Add(wait)
	for ready() != nil {
		if time.Now().After(deadline) {
			stop()
			data, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("containerd did not come up in %s: %s", wait, lastLines(string(data), 5))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return stop, nil
}

// writeImageArchive writes rootfs as a one-layer image in the docker-save
// format `ctr images import` reads, named name, running cmd.
func writeImageArchive(path, rootfs, name string, cmd []string) error {
	layer, err := os.CreateTemp(filepath.Dir(path), "layer-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(layer.Name())
	defer layer.Close()
	h := sha256.New()
	if err := tarDir(io.MultiWriter(layer, h), rootfs); err != nil {
		return err
	}
	diffID := "sha256:" + hex.EncodeToString(h.Sum(nil))
	config, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH, "os": "linux",
		"config": map[string]any{"Cmd": cmd, "Env": []string{"PATH=/bin"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	if err != nil {
		return err
	}
	sum := sha256.Sum256(config)
	configName := hex.EncodeToString(sum[:]) + ".json"
	manifest, err := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{name}, "Layers": []string{"layer.tar"}}})
	if err != nil {
		return err
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	tw := tar.NewWriter(out)
	add := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	fi, err := layer.Stat()
	if err != nil {
		return err
	}
	if _, err := layer.Seek(0, io.SeekStart); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{configName, config}, {"manifest.json", manifest}} {
		if err := add(f.name, int64(len(f.data)), bytes.NewReader(f.data)); err != nil {
			return err
		}
	}
	if err := add("layer.tar", fi.Size(), layer); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return out.Close()
}

// tarDir writes the tree under root as a tar stream (regular files,
// directories and symlinks).
func tarDir(w io.Writer, root string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == root {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = rel
		hdr.Uname, hdr.Gname = "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
