package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/internal/testutil"
)

// The docker daemon the network step compares with runs on a bridge and an
// address range of its own, never docker0 or another test's.
const (
	dockerBridge = "rtdbdock0"
	dockerGW     = "10.249.17.1/24"
	dockerImage  = "rtd-busybox:test" // hack/docker.sh image
	dockerClient = "/usr/bin/docker"  // Debian's docker.io 20.10, not a newer CLI on PATH
	dockerDaemon = "/usr/sbin/dockerd"
)

// dockerd is a docker daemon of the bench's own: its own data root, exec
// root, socket and bridge under the run's scratch directory, no iptables
// rules (per container, without -p, docker adds none anyway), the busybox
// image of hack/docker.sh loaded from a local archive (no registry).
type dockerd struct {
	dir, sock string
	cmd       *exec.Cmd
	// cgroup is a cpuacct group of the bench's own holding dockerd, its
	// containerd, the shims, runc and (--cgroup-parent) the containers:
	// its usage is all of docker's CPU time but the client's.
	cgroup string
}

// repoScript finds hack/NAME in the module's root.
func repoScript(name string) (string, error) {
	root, err := testutil.ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "hack", name), nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// startDockerd starts the daemon, or says (skipError) why this host cannot.
func (e *env) startDockerd() (*dockerd, error) {
	if e.o.smoke {
		return nil, skipf("not with -smoke: starting a docker daemon and loading its image take tens of seconds")
	}
	if !fileExists(dockerClient) || !fileExists(dockerDaemon) {
		return nil, skipf("docker.io is not installed (hack/docker.sh installs it)")
	}
	script, err := repoScript("docker.sh")
	if err != nil {
		return nil, err
	}
	if linkExists(dockerBridge) {
		return nil, skipf("a device named %s already exists: another docker bench runs?", dockerBridge)
	}
	gw, err := freeDockerSubnet()
	if err != nil {
		return nil, err
	}
	d := &dockerd{dir: filepath.Join(e.work, "docker")}
	d.sock = filepath.Join(d.dir, "docker.sock")
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return nil, err
	}
	image := filepath.Join(d.dir, "image.tar")
	if out, err := exec.Command(script, "image", image).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("hack/docker.sh image: %v: %s", err, lastLines(string(out), 5))
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: dockerBridge}}
	if err := netlink.LinkAdd(br); err != nil {
		return nil, fmt.Errorf("docker bench bridge: %w", err)
	}
	if err := netlink.AddrAdd(br, gw); err != nil {
		d.stop()
		return nil, fmt.Errorf("docker bench bridge: %w", err)
	}
	if err := netlink.LinkSetUp(br); err != nil {
		d.stop()
		return nil, fmt.Errorf("docker bench bridge: %w", err)
	}
	log, err := os.Create(filepath.Join(d.dir, "dockerd.log"))
	if err != nil {
		d.stop()
		return nil, err
	}
	defer log.Close()
	cgName := fmt.Sprintf("rtd-bench-docker-%d", os.Getpid())
	d.cgroup = filepath.Join("/sys/fs/cgroup/cpuacct", cgName)
	if err := os.Mkdir(d.cgroup, 0o755); err != nil {
		d.cgroup = ""
		d.stop()
		return nil, skipf("no cpuacct cgroup for docker's CPU time: %v", err)
	}
	// The shell moves itself into the group before it becomes dockerd, so
	// that everything dockerd starts is counted.
	d.cmd = exec.Command("/bin/sh", "-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, d.cgroup,
		dockerDaemon, "--data-root", filepath.Join(d.dir, "data"), "--exec-root", filepath.Join(d.dir, "exec"),
		"-H", "unix://"+d.sock, "--pidfile", filepath.Join(d.dir, "docker.pid"), "--bridge", dockerBridge,
		"--cgroup-parent", "/"+cgName, "--iptables=false", "--ip-masq=false", "--ip-forward=false", "--userland-proxy=false", "--log-level=warn")
	d.cmd.Stdout, d.cmd.Stderr = log, log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		d.stop()
		return nil, err
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, err := d.docker("version"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log.Name())
			d.stop()
			return nil, fmt.Errorf("dockerd did not answer in 60s: %s", lastLines(string(b), 5))
		}
	}
	if out, err := d.docker("load", "-i", image); err != nil {
		d.stop()
		return nil, fmt.Errorf("docker load: %v: %s", err, out)
	}
	return d, nil
}

// freeDockerSubnet is the bench bridge's address, or a skip when the host
// already routes its subnet.
func freeDockerSubnet() (*netlink.Addr, error) {
	gw, err := netlink.ParseAddr(dockerGW)
	if err != nil {
		return nil, err
	}
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return gw, nil
	}
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		if ones, _ := r.Dst.Mask.Size(); ones > 0 && (r.Dst.Contains(gw.IP) || gw.IPNet.Contains(r.Dst.IP)) {
			return nil, skipf("the host already routes %s: the docker bench subnet %s is taken", r.Dst, dockerGW)
		}
	}
	return gw, nil
}

// docker runs one client command against the daemon.
func (d *dockerd) docker(args ...string) (string, error) {
	out, err := exec.Command(dockerClient, append([]string{"-H", "unix://" + d.sock}, args...)...).CombinedOutput()
	return lastLines(string(out), 5), err
}

// args is a docker command line against the daemon, for timed.
func (d *dockerd) args(args ...string) []string {
	return append([]string{"-H", "unix://" + d.sock}, args...)
}

// stop removes the daemon's containers, ends it by its pid (SIGTERM, then
// SIGKILL to its group after 20s), unmounts what it left under its
// directory and deletes the bridge.
func (d *dockerd) stop() {
	if d.cmd != nil && d.cmd.Process != nil {
		if out, err := d.docker("ps", "-aq"); err == nil && strings.TrimSpace(out) != "" {
			_, _ = d.docker(append([]string{"rm", "-f"}, strings.Fields(out)...)...)
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
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	var mounts []string
	for _, l := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], d.dir+"/") {
			mounts = append(mounts, f[4])
		}
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		_ = syscall.Unmount(mounts[i], syscall.MNT_DETACH)
	}
	if l, err := netlink.LinkByName(dockerBridge); err == nil {
		_ = netlink.LinkDel(l)
	}
	if d.cgroup != "" {
		// --cgroup-parent made the group in every hierarchy; each is
		// empty once the containers are gone.
		dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", filepath.Base(d.cgroup)))
		for _, dir := range dirs {
			_ = os.Remove(dir)
		}
	}
}

// cpu is the CPU time docker's processes (all but the client) have used.
func (d *dockerd) cpu() (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join(d.cgroup, "cpuacct.usage"))
	if err != nil {
		return 0, err
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return time.Duration(ns), err
}

// cpuSample runs the client k times and returns the CPU time per run of
// docker's processes and of the client.
func (d *dockerd) cpuSample(k int, args ...string) bench.Sample {
	return func() (time.Duration, error) {
		before, err := d.cpu()
		if err != nil {
			return 0, err
		}
		var client time.Duration
		for i := 0; i < k; i++ {
			cmd := exec.Command(dockerClient, d.args(args...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				return 0, fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, lastLines(string(out), 5))
			}
			ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
			client += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
		after, err := d.cpu()
		if err != nil {
			return 0, err
		}
		return (after - before + client) / time.Duration(k), nil
	}
}

func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}
