//go:build linux

package containerd

import (
	"bytes"
	"context"
	"fmt"
	"io"
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

// testTimeout bounds each test's commands.
const testTimeout = 4 * time.Minute

// rtdHandlers are the CRI runtime handlers of the test config, by driver.
var rtdHandlers = []string{"linux", "gvisor", "vm"}

// daemon is one test's containerd: its own root, state, socket, config,
// CNI config; tracked by pid and stopped when the test ends.
type daemon struct {
	t      *testing.T
	ctx    context.Context
	dir    string
	sock   string
	cmd    *exec.Cmd
	exited chan struct{}
	log    *os.File
	// subnet is the pod subnet of the CNI bridge (10.X.0.0/24).
	subnet string
	bridge string
}

// startContainerd starts a containerd for t, with CRI, the rtd handlers and
// a CNI bridge config in its own directory.
func startContainerd(t *testing.T) *daemon {
	t.Helper()
	need(t)
	// Short: the socket path is limited to 108 bytes.
	dir, err := os.MkdirTemp("", "rcd")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	x := 100 + rand.IntN(150)
	d := &daemon{
		t: t, ctx: ctx, dir: dir, sock: filepath.Join(dir, "c.sock"),
		subnet: fmt.Sprintf("10.%d.0", x), bridge: fmt.Sprintf("rtdcni%d", x),
	}
	d.writeConfig()
	d.start()
	t.Cleanup(func() {
		d.cleanup()
		cancel()
	})
	return d
}

func (d *daemon) writeConfig() {
	d.t.Helper()
	var rt strings.Builder
	for _, name := range rtdHandlers {
		fmt.Fprintf(&rt, `
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.rtd-%[1]s]
      runtime_type = "io.containerd.rtd.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.rtd-%[1]s.options]
        driver = "%[1]s"
`, name)
	}
	// CRI pods as driver sandboxes (containerd's podsandbox mode, the shim
	// maps each pod to a sandbox of the driver).
	for _, name := range rtdHandlers {
		fmt.Fprintf(&rt, `
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.rtd-%[1]s-sandbox]
      runtime_type = "io.containerd.rtd.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.rtd-%[1]s-sandbox.options]
        driver = "%[1]s"
        pods = "sandbox"
`, name)
	}
	rt.WriteString(sandboxAPIRuntimes())
	cfg := fmt.Sprintf(`version = 3
root = "%[1]s/root"
state = "%[1]s/state"

[grpc]
  address = "%[1]s/c.sock"

[debug]
  level = "debug"

[plugins."io.containerd.nri.v1.nri"]
  disable = true

[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "%[2]s"

[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "%[1]s/cni"
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        SystemdCgroup = false
%[3]s`, d.dir, pauseImage, rt.String())
	if err := os.WriteFile(filepath.Join(d.dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		d.t.Fatal(err)
	}
	cni := fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "rtd-test",
  "plugins": [
    {"type": "bridge", "bridge": "%s", "isGateway": true, "ipMasq": false,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "%s.0/24"}]], "dataDir": "%s/ipam"}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}`, d.bridge, d.subnet, d.dir)
	if err := os.MkdirAll(filepath.Join(d.dir, "cni"), 0o700); err != nil {
		d.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.dir, "cni", "10-rtd.conflist"), []byte(cni), 0o600); err != nil {
		d.t.Fatal(err)
	}
}

// environ is containerd's environment: the shim and drivers first on PATH,
// then containerd's own binaries (the runc shim).
func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, "RTD_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "RTD_SHIM_DEBUG=1", "PATH="+binDir+":"+cdBin+":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
}

// start starts containerd and waits until it answers.
func (d *daemon) start() {
	d.t.Helper()
	f, err := os.OpenFile(filepath.Join(d.dir, "containerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		d.t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(cdBin, "containerd"), "--config", filepath.Join(d.dir, "config.toml"))
	cmd.Env = environ()
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		d.t.Fatal(err)
	}
	d.cmd, d.log, d.exited = cmd, f, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(d.exited)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.Dial("unix", d.sock); err == nil {
			c.Close()
			if r := d.ctr("version"); r.code == 0 {
				return
			}
		}
		select {
		case <-d.exited:
			d.t.Fatalf("containerd exited at start:\n%s", d.logTail())
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("containerd did not answer within 60s:\n%s", d.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill SIGKILLs containerd (its shims keep running) and waits for it.
func (d *daemon) kill() {
	d.t.Helper()
	if d.cmd == nil {
		return
	}
	_ = d.cmd.Process.Kill()
	<-d.exited
	d.log.Close()
	d.cmd = nil
}

// stop ends containerd with SIGTERM (SIGKILL after 20s).
func (d *daemon) stop() {
	if d.cmd == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
	d.log.Close()
	d.cmd = nil
}

// cleanup removes whatever the test left: containers and pods through
// containerd (so that shims clean up), then containerd, its mounts and
// its directory.
func (d *daemon) cleanup() {
	// A fresh deadline: the test's may be what ended it.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d.ctx = ctx
	if d.cmd != nil {
		if r := d.crictl("rmp", "-fa"); r.code != 0 {
			d.t.Logf("cleanup: crictl rmp -fa: %s", r)
		}
		for _, ns := range []string{"default", "k8s.io"} {
			r := d.ctrNS(ns, "task", "ls", "-q")
			for _, id := range strings.Fields(r.stdout) {
				d.ctrNS(ns, "task", "kill", "-s", "SIGKILL", id)
				d.ctrNS(ns, "task", "rm", "-f", id)
			}
			r = d.ctrNS(ns, "containers", "ls", "-q")
			for _, id := range strings.Fields(r.stdout) {
				d.ctrNS(ns, "containers", "rm", id)
			}
		}
	}
	d.stop()
	if d.t.Failed() {
		d.t.Logf("containerd log (tail):\n%s", d.logTail())
	}
	testutil.UnmountUnder(d.dir)
	if err := os.RemoveAll(d.dir); err != nil {
		d.t.Logf("cleanup: %v", err)
	}
	// The bridge of this test's CNI config.
	_ = exec.Command("ip", "link", "del", d.bridge).Run()
}

func (d *daemon) logTail() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "containerd.log"))
	lines := strings.Split(string(b), "\n")
	var keep []string
	for _, l := range lines {
		if strings.Contains(l, "level=debug") && !strings.Contains(l, "rtd") {
			continue
		}
		keep = append(keep, l)
	}
	if len(keep) > 80 {
		keep = keep[len(keep)-80:]
	}
	return strings.Join(keep, "\n")
}

// result is a finished command.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("%s: exit %d\nstdout: %q\nstderr: %q", strings.Join(r.args, " "), r.code, short(r.stdout), short(r.stderr))
}

func short(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "..."
	}
	return s
}

func (d *daemon) run(stdin io.Reader, name string, args ...string) result {
	cmd := exec.CommandContext(d.ctx, filepath.Join(cdBin, name), args...)
	cmd.Env = environ()
	cmd.Stdin = stdin
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	return result{args: append([]string{name}, args...), stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// ctr runs ctr in the default namespace.
func (d *daemon) ctr(args ...string) result { return d.ctrNS("default", args...) }

func (d *daemon) ctrNS(ns string, args ...string) result {
	return d.run(nil, "ctr", append([]string{"-a", d.sock, "-n", ns}, args...)...)
}

// crictl runs crictl against this containerd's CRI.
func (d *daemon) crictl(args ...string) result {
	ep := "unix://" + d.sock
	return d.run(nil, "crictl", append([]string{"--runtime-endpoint", ep, "--image-endpoint", ep, "--timeout", "60s"}, args...)...)
}

// ok fails the test unless r succeeded.
func ok(t *testing.T, r result) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("want exit 0: %s", r)
	}
	return r
}
