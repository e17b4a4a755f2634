//go:build linux

package runc

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtd-project/rtd/internal/testutil"
)

// containerd is a private containerd 2.2 (hack/containerd.sh) without CRI:
// its own root, state and socket in a temporary directory, stopped by pid.
type containerd struct {
	t    *testing.T
	bin  string
	dir  string
	sock string
	ns   string
	cmd  *exec.Cmd
	done chan struct{}
}

func startContainerd(t *testing.T) *containerd {
	t.Helper()
	bin, err := testutil.ContainerdBin()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "rrc") // short: socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	d := &containerd{t: t, bin: bin, dir: dir, sock: filepath.Join(dir, "c.sock"),
		ns: fmt.Sprintf("rtdrunc%d", rand.IntN(1e6)), done: make(chan struct{})}
	cfg := fmt.Sprintf(`version = 3
root = "%[1]s/root"
state = "%[1]s/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images", "io.containerd.nri.v1.nri"]
[grpc]
  address = "%[1]s/c.sock"
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(filepath.Join(d.bin, "containerd"), "--config", filepath.Join(dir, "config.toml"))
	d.cmd.Env = append(os.Environ(), "PATH="+d.bin+":"+os.Getenv("PATH"))
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = d.cmd.Wait(); logf.Close(); close(d.done) }()
	t.Cleanup(d.stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.Dial("unix", d.sock); err == nil {
			c.Close()
			if d.ctr("version").code == 0 {
				return d
			}
		}
		select {
		case <-d.done:
			log, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
			t.Fatalf("containerd exited at start:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("containerd did not answer within 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ctr runs ctr in this test's namespace.
func (d *containerd) ctr(args ...string) result {
	return runCmd(d.t, nil, filepath.Join(d.bin, "ctr"), append([]string{"-a", d.sock, "-n", d.ns}, args...)...)
}

func (d *containerd) ok(args ...string) result {
	d.t.Helper()
	res := d.ctr(args...)
	if res.code != 0 {
		d.t.Fatalf("ctr %v: %s", args, res)
	}
	return res
}

// stop removes what is left through containerd, stops it by pid and
// removes its directories and the runc root of the test's namespace.
func (d *containerd) stop() {
	for _, id := range strings.Fields(d.ctr("task", "ls", "-q").stdout) {
		d.ctr("task", "kill", "-s", "SIGKILL", id)
		d.ctr("task", "rm", "-f", id)
	}
	for _, id := range strings.Fields(d.ctr("containers", "ls", "-q").stdout) {
		d.ctr("containers", "rm", id)
	}
	d.ctr("namespaces", "rm", d.ns)
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
	if d.t.Failed() {
		log, _ := os.ReadFile(filepath.Join(d.dir, "containerd.log"))
		d.t.Logf("containerd log:\n%s", short(string(log)))
	}
	_ = os.RemoveAll(d.dir)
	_ = os.RemoveAll(filepath.Join("/run/containerd/runc", d.ns))
	removeCgroup(d.ns) // the runc shim's cgroup parent, /NAMESPACE
}

// TestCtrRunRuncBinary: containerd's own runc shim drives rtd-runc
// (ctr run --runc-binary, the BinaryName runtime option): output and exit
// code of a container, exec into a running one, kill and delete, on the
// linux driver and on gvisor.
func TestCtrRunRuncBinary(t *testing.T) {
	need(t)
	d := startContainerd(t)
	rootfs := testutil.BusyboxRootfs(t)
	for _, bin := range []string{rtdRunc(), filepath.Join(binDir, "rtd-runc-gvisor")} {
		t.Run(filepath.Base(bin), func(t *testing.T) {
			id := "run-" + filepath.Base(bin)
			res := d.ctr("run", "--rm", "--runc-binary", bin, "--rootfs", rootfs, id, "/bin/sh", "-c", "echo out; exit 7")
			if res.code != 7 || res.stdout != "out\n" {
				t.Fatalf("ctr run: %s, want exit 7 and out", res)
			}
			id = "exec-" + filepath.Base(bin)
			d.ok("run", "-d", "--runc-binary", bin, "--rootfs", rootfs, id, "/bin/sleep", "1000")
			res = d.ctr("task", "exec", "--exec-id", "e1", id, "/bin/sh", "-c", "echo in; exit 5")
			if res.code != 5 || res.stdout != "in\n" {
				t.Fatalf("ctr task exec: %s, want exit 5 and in", res)
			}
			d.ok("task", "kill", "-s", "SIGKILL", id)
			deadline := time.Now().Add(30 * time.Second)
			for !strings.Contains(d.ctr("task", "ls").stdout, "STOPPED") {
				if time.Now().After(deadline) {
					t.Fatalf("task not stopped after SIGKILL: %s", d.ctr("task", "ls"))
				}
				time.Sleep(50 * time.Millisecond)
			}
			d.ok("task", "rm", id)
			d.ok("containers", "rm", id)
			if pids := standins(filepath.Join("/run/containerd/runc", d.ns)); len(pids) > 0 {
				t.Errorf("stand-ins left: %v", pids)
			}
		})
	}
}
