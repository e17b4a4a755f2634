package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/internal/testutil"
)

// shimPause is the pod sandbox image of the shim step (busybox sleep).
const shimPause = "docker.io/rtdbench/pause:bench"

// shimEnv is the containerd 2.2 of the shim step: CRI on, handlers rtd-linux
// (containerd-shim-rtd-v2, linux driver) and runc (containerd-shim-runc-v2).
type shimEnv struct {
	e      *env
	dir    string
	sock   string
	cdBin  string
	rtdOpt string // runtime options file selecting the linux driver
	// handlers are more CRI runtime handlers: name → its options' TOML.
	handlers map[string]string
	cni      string // CNI conflist of the pod network, "" for none
}

// shim compares containerd-shim-rtd-v2 (linux driver) with containerd's
// runc shim under one containerd 2.2.9 (hack/containerd.sh), same image,
// alternating: ctr run --rm of /bin/true, a CRI pod and container to
// running, and the memory of a running pod's shim (plus driver).
func (e *env) shim(res *bench.Results) error {
	s, stop, err := e.startShimEnv("shim", nil, "")
	if err != nil {
		return err
	}
	defer stop()
	ctrRun := func(rtd bool) bench.Sample {
		return e.fresh(func(id string) bench.Sample {
			args := []string{"-n", "rtdbench", "run", "--rm"}
			if rtd {
				args = append(args, "--runtime", "io.containerd.rtd.v2", "--runtime-config-path", s.rtdOpt)
			}
			return s.timed("ctr", append(args, benchImage, id, "/bin/true")...)
		})
	}
	p, err := bench.AB("shim: ctr run --rm of /bin/true, containerd-shim-rtd-v2 (linux driver) vs containerd-shim-runc-v2 (containerd 2.2.9)",
		"rtd shim", "runc shim", e.o.n, ctrRun(true), ctrRun(false))
	if err != nil {
		return err
	}
	p.GoalRatio(1.1)
	res.Pairs = append(res.Pairs, p)

	p, err = bench.AB("shim: CRI pod + container to running (crictl runp, create, start; host network), rtd-linux vs runc handler",
		"rtd-linux", "runc", e.o.n, s.podSample("rtd-linux"), s.podSample("runc"))
	if err != nil {
		return err
	}
	p.GoalRatio(1.1)
	res.Pairs = append(res.Pairs, p)
	return s.memory(res)
}

// startShimEnv starts the containerd 2.2 of a step under work/dir, with
// the runc and rtd-linux handlers plus handlers, and imports the bench
// images (a /bin/true one and the pod sandbox image) into the rtdbench and
// k8s.io namespaces; stop ends it. cni, when given, is CRI's CNI network
// config (Debian's plugins); without, pods need the host network.
func (e *env) startShimEnv(dir string, handlers map[string]string, cni string) (*shimEnv, func(), error) {
	if _, err := os.Stat(filepath.Join(e.o.bin, "containerd-shim-rtd-v2")); err != nil {
		return nil, nil, skipf("containerd-shim-rtd-v2 not built (make build)")
	}
	cdBin, err := testutil.ContainerdBin()
	if err != nil {
		return nil, nil, skipf("%v", err)
	}
	s := &shimEnv{e: e, dir: filepath.Join(e.work, dir), cdBin: cdBin, handlers: handlers, cni: cni}
	s.sock = filepath.Join(s.dir, "c.sock")
	stop, err := s.start()
	if err != nil {
		return nil, nil, err
	}
	for _, im := range []struct {
		name string
		cmd  []string
	}{{benchImage, []string{"/bin/true"}}, {shimPause, []string{"/bin/sleep", "100000"}}} {
		archive := filepath.Join(s.dir, strings.ReplaceAll(filepath.Base(im.name), ":", "_")+".tar")
		if err := writeImageArchive(archive, e.rootfs, im.name, im.cmd); err != nil {
			stop()
			return nil, nil, err
		}
		for _, ns := range []string{"rtdbench", "k8s.io"} {
			if out, err := s.cmd("ctr", "-n", ns, "images", "import", archive).CombinedOutput(); err != nil {
				stop()
				return nil, nil, fmt.Errorf("ctr images import: %v: %s", err, lastLines(string(out), 5))
			}
		}
	}
	return s, stop, nil
}

func (s *shimEnv) start() (stop func(), err error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, err
	}
	s.rtdOpt = filepath.Join(s.dir, "linux.toml")
	if err := os.WriteFile(s.rtdOpt, []byte("driver = \"linux\"\n"), 0o600); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`version = 3
root = "%[1]s/root"
state = "%[1]s/state"
[grpc]
  address = "%[2]s"
[plugins."io.containerd.nri.v1.nri"]
  disable = true
[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
[plugins."io.containerd.cri.v1.images".pinned_images]
  sandbox = "%[3]s"
[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "%[1]s/cni"
  [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
      SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.rtd-linux]
    runtime_type = "io.containerd.rtd.v2"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.rtd-linux.options]
      driver = "linux"
%[4]s`, s.dir, s.sock, shimPause, s.handlerConfig())
	if err := os.WriteFile(filepath.Join(s.dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	if s.cni != "" {
		if err := os.MkdirAll(filepath.Join(s.dir, "cni"), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(s.dir, "cni", "10-rtdbench.conflist"), []byte(s.cni), 0o600); err != nil {
			return nil, err
		}
	}
	daemon := exec.Command(filepath.Join(s.cdBin, "containerd"), "--config", filepath.Join(s.dir, "config.toml"))
	daemon.Env = s.environ()
	return startContainerdCmd(daemon, s.dir, 60*time.Second,
		func() { _ = s.cmd("crictl", "rmp", "-fa").Run() },
		func() error { return s.cmd("ctr", "version").Run() })
}

// handlerConfig is the TOML of s.handlers (io.containerd.rtd.v2 each).
func (s *shimEnv) handlerConfig() string {
	var b strings.Builder
	for name, opts := range s.handlers {
		fmt.Fprintf(&b, `  [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.%[1]s]
    runtime_type = "io.containerd.rtd.v2"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.%[1]s.options]
%[2]s
`, name, opts)
	}
	return b.String()
}

// environ puts the shim and the drivers (bin), then containerd's binaries
// (the runc shim) first on PATH.
func (s *shimEnv) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	return append(env, "PATH="+s.e.o.bin+":"+s.cdBin+":"+os.Getenv("PATH"))
}

// cmd is a ctr or crictl command against this containerd.
func (s *shimEnv) cmd(name string, args ...string) *exec.Cmd {
	switch name {
	case "ctr":
		args = append([]string{"--address", s.sock}, args...)
	case "crictl":
		ep := "unix://" + s.sock
		args = append([]string{"--runtime-endpoint", ep, "--image-endpoint", ep, "--timeout", "60s"}, args...)
	}
	c := exec.Command(filepath.Join(s.cdBin, name), args...)
	c.Env = s.environ()
	return c
}

// timed is a sample: one run of a ctr or crictl command against this
// containerd.
func (s *shimEnv) timed(name string, args ...string) bench.Sample {
	return func() (time.Duration, error) { return timeRun(s.cmd(name, args...)) }
}

// crictl runs crictl and returns its trimmed stdout.
func (s *shimEnv) crictl(args ...string) (string, error) {
	out, err := s.cmd("crictl", args...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = lastLines(string(ee.Stderr), 3)
		}
		return "", fmt.Errorf("crictl %s: %v: %s", strings.Join(args, " "), err, msg)
	}
	return strings.TrimSpace(string(out)), nil
}

// podFiles writes a host-network pod config and a sleeping container config.
func (s *shimEnv) podFiles(name string) (pod, ctr string, err error) {
	pod = filepath.Join(s.dir, name+"-pod.json")
	ctr = filepath.Join(s.dir, name+"-ctr.json")
	pj, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{"name": name, "namespace": "rtdbench", "uid": name, "attempt": 0},
		"linux":    map[string]any{"security_context": map[string]any{"namespace_options": map[string]any{"network": 2}}},
	})
	cj, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{"name": "c"},
		"image":    map[string]any{"image": benchImage},
		"command":  []string{"/bin/sleep", "100000"},
		"linux":    map[string]any{},
	})
	if err = os.WriteFile(pod, pj, 0o600); err == nil {
		err = os.WriteFile(ctr, cj, 0o600)
	}
	return pod, ctr, err
}

// runPod starts a pod and its container on handler; it returns the pod id.
func (s *shimEnv) runPod(handler, name string) (string, error) {
	pod, ctr, err := s.podFiles(name)
	if err != nil {
		return "", err
	}
	id, err := s.crictl("runp", "--runtime", handler, pod)
	if err != nil {
		return "", err
	}
	cid, err := s.crictl("create", id, ctr, pod)
	if err != nil {
		return id, err
	}
	_, err = s.crictl("start", cid)
	return id, err
}

// podSample times runp + create + start; the pod is removed untimed.
func (s *shimEnv) podSample(handler string) bench.Sample {
	return func() (time.Duration, error) {
		name := s.e.id("pod")
		start := time.Now()
		id, err := s.runPod(handler, name)
		d := time.Since(start)
		if id != "" {
			if _, rerr := s.crictl("rmp", "-f", id); rerr != nil && err == nil {
				err = rerr
			}
		}
		return d, err
	}
}

// memory starts one pod per handler and reads the memory of its shim
// process(es): containerd-shim-rtd-v2 plus its driver process (and,
// separately, the per-container monitors), vs containerd-shim-runc-v2.
func (s *shimEnv) memory(res *bench.Results) error {
	rtdPod, err := s.runPod("rtd-linux", "mem-rtd")
	if err != nil {
		return err
	}
	runcPod, err := s.runPod("runc", "mem-runc")
	if err != nil {
		return err
	}
	defer s.crictl("rmp", "-f", rtdPod, runcPod)
	time.Sleep(time.Second) // let the processes settle
	rtdShim := s.shimPids("containerd-shim-rtd-v2", rtdPod)
	runcShim := s.shimPids("containerd-shim-runc-v2", runcPod)
	if len(rtdShim) != 1 || len(runcShim) != 1 {
		return fmt.Errorf("want one shim per pod, found rtd %v, runc %v", rtdShim, runcShim)
	}
	drivers := childrenWithComm(rtdShim[0], "rtd-driver-")
	if len(drivers) != 1 {
		return fmt.Errorf("want one driver process under the rtd shim, found %v", drivers)
	}
	monitors := childrenWithComm(drivers[0], "")
	rs, rd, rc := readMemory(rtdShim[0]), readMemory(drivers[0]), readMemory(runcShim[0])
	var mon procMemory
	for _, m := range monitors {
		mm := readMemory(m)
		mon.rssKB, mon.pssKB, mon.anonKB = mon.rssKB+mm.rssKB, mon.pssKB+mm.pssKB, mon.anonKB+mm.anonKB
	}
	ratio := func(a, b int) string {
		if b == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2fx", float64(a)/float64(b))
	}
	rssSum, pssSum := rs.rssKB+rd.rssKB, rs.pssKB+rd.pssKB
	res.Values = append(res.Values,
		bench.Value{Name: "shim: running pod, containerd-shim-rtd-v2 + linux driver RSS vs containerd-shim-runc-v2 RSS",
			Value: fmt.Sprintf("%s (shim %s + driver %s) vs %s: %s", mb(rssSum), mb(rs.rssKB), mb(rd.rssKB), mb(rc.rssKB), ratio(rssSum, rc.rssKB)),
			Goal:  "<= 2x", Met: bench.Met(rc.rssKB > 0 && float64(rssSum) <= 2*float64(rc.rssKB))},
		bench.Value{Name: "shim: running pod, containerd-shim-rtd-v2 + linux driver PSS vs containerd-shim-runc-v2 PSS",
			Value: fmt.Sprintf("%s (shim %s + driver %s) vs %s: %s", mb(pssSum), mb(rs.pssKB), mb(rd.pssKB), mb(rc.pssKB), ratio(pssSum, rc.pssKB)),
			Goal:  "<= 2x", Met: bench.Met(rc.pssKB > 0 && float64(pssSum) <= 2*float64(rc.pssKB))},
		bench.Value{Name: fmt.Sprintf("shim: the pod's %d per-container monitors (not in the shim figures above)", len(monitors)),
			Value: fmt.Sprintf("RSS %s, PSS %s, private %s", mb(mon.rssKB), mb(mon.pssKB), mb(mon.anonKB)),
			Note:  "the runc shim holds its containers' stdio and exits itself; rtd's per-container monitors do that and survive the driver"})
	return nil
}

// shimPids finds the shim processes named name serving pod (the first
// container's id is the pod id) of this containerd.
func (s *shimEnv) shimPids(name, pod string) []int {
	var out []int
	for _, pid := range testutil.Pids() {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		line := strings.Join(args, " ")
		if filepath.Base(args[0]) == name && strings.Contains(line, "-id "+pod) && strings.Contains(line, s.sock) {
			out = append(out, pid)
		}
	}
	return out
}

// childrenWithComm lists the children of parent whose comm starts with prefix.
func childrenWithComm(parent int, prefix string) []int {
	var out []int
	for _, pid := range testutil.Pids() {
		st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		str := string(st)
		i, j := strings.IndexByte(str, '('), strings.LastIndexByte(str, ')')
		if i < 0 || j < i {
			continue
		}
		f := strings.Fields(str[j+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(parent) && strings.HasPrefix(str[i+1:j], prefix) {
			out = append(out, pid)
		}
	}
	return out
}
