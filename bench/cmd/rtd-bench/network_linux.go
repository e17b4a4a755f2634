package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/core/network"
)

// networking compares rtd run --rm on the builtin bridge network with
// --network none (the network's whole cost), and docker run --rm with
// --network bridge and none in the same loop when docker.io is installed
// (a daemon of the bench's own, on a bridge and subnet of its own); then
// breaks rtd's cost down into the namespace and each CNI plugin's ADD and
// DEL (timed in-process through libcni, as rtd calls them).
func (e *env) networking(res *bench.Results) error {
	if err := network.CheckPlugins(); err != nil {
		return skipf("%v", err)
	}
	cmds := []netCmd{
		{"rtd", "--network bridge", e.rtd("run", "--rm", "--driver", "linux", "--network", "bridge", e.rootfs, "/bin/true")},
		{"rtd", "--network none", e.rtd("run", "--rm", "--driver", "linux", "--network", "none", e.rootfs, "/bin/true")},
	}
	d, err := e.startDockerd()
	var skip *skipError
	switch {
	case errors.As(err, &skip):
		res.Skipped = append(res.Skipped, "network: docker comparison: "+skip.reason)
	case err != nil:
		res.Failed = append(res.Failed, "network: docker comparison: "+err.Error())
	default:
		defer d.stop()
		cmds = append(cmds,
			netCmd{"docker", "--network bridge", timed(dockerClient, d.args("run", "--rm", "--network", "bridge", dockerImage, "/bin/true")...)},
			netCmd{"docker", "--network none", timed(dockerClient, d.args("run", "--rm", "--network", "none", dockerImage, "/bin/true")...)})
	}
	samples, err := interleave(e.o.n, cmds)
	if err != nil {
		return err
	}
	var costs []time.Duration
	for i := 0; i+1 < len(cmds); i += 2 {
		p := &bench.Pair{Name: "network: " + cmds[i].who + " run --rm, bridge vs none (linux)", A: cmds[i].label, B: cmds[i+1].label,
			N: e.o.n, SamplesA: samples[i], SamplesB: samples[i+1], MedianA: bench.Median(samples[i]), MedianB: bench.Median(samples[i+1])}
		p.Ratio = float64(p.MedianA) / float64(p.MedianB)
		cost := p.MedianA - p.MedianB
		costs = append(costs, cost)
		p.Note = fmt.Sprintf("the network's cost (median difference): %s", round(cost))
		res.Pairs = append(res.Pairs, p)
	}
	res.Values = append(res.Values, bench.Value{Name: "network: cost of --network bridge in rtd run --rm (median difference)",
		Value: round(costs[0]), Goal: "<= 20ms", Met: bench.Met(costs[0] <= 20*time.Millisecond)})
	if len(costs) > 1 {
		res.Values = append(res.Values, bench.Value{Name: "network: rtd's bridge cost vs docker's (same loop)",
			Value: fmt.Sprintf("%s vs %s", round(costs[0]), round(costs[1])), Goal: "below docker's", Met: bench.Met(costs[0] < costs[1])})
	}
	if err := e.networkCPU(res, d); err != nil {
		return err
	}
	return e.cniBreakdown(res)
}

// networkCPU is the network's cost in CPU time (user + system of rtd, the
// plugins it runs and every other process of the container), which a loaded
// machine inflates far less than wall time: rtd run --rm bridge vs none.
func (e *env) networkCPU(res *bench.Results, d *dockerd) error {
	k, n := 5, e.o.n
	if e.o.smoke {
		k = 1
	}
	run := func(mode string) []string {
		return []string{filepath.Join(e.o.bin, "rtd"), "--root", e.rtdRoot, "run", "--rm", "--driver", "linux", "--network", mode, e.rootfs, "/bin/true"}
	}
	p, err := bench.AB(fmt.Sprintf("network: CPU time per container (all processes, %d per sample): rtd run --rm, bridge vs none", k),
		"--network bridge", "--network none", n, e.cpuPerContainer(run("bridge"), nil, k), e.cpuPerContainer(run("none"), nil, k))
	if err != nil {
		return err
	}
	cost := p.MedianA - p.MedianB
	p.Note = fmt.Sprintf("the network's CPU cost (median difference): %s", round(cost))
	res.Pairs = append(res.Pairs, p)
	if d == nil {
		return nil
	}
	dp, err := bench.AB(fmt.Sprintf("network: CPU time per container (dockerd, containerd, shims, runc, containers and the client; %d per sample): docker run --rm, bridge vs none", k),
		"--network bridge", "--network none", n,
		d.cpuSample(k, "run", "--rm", "--network", "bridge", dockerImage, "/bin/true"),
		d.cpuSample(k, "run", "--rm", "--network", "none", dockerImage, "/bin/true"))
	if err != nil {
		return err
	}
	dcost := dp.MedianA - dp.MedianB
	dp.Note = fmt.Sprintf("docker's network CPU cost (median difference): %s", round(dcost))
	res.Pairs = append(res.Pairs, dp)
	res.Values = append(res.Values, bench.Value{Name: "network: rtd's bridge CPU cost vs docker's", Value: fmt.Sprintf("%s vs %s", round(cost), round(dcost)),
		Goal: "below docker's", Met: bench.Met(cost < dcost)})
	return nil
}

// netCmd is one command of the network step's loop.
type netCmd struct {
	who, label string
	run        bench.Sample
}

// interleave takes a warm-up sample of each command, then n samples of
// each, the order rotating every round so that the machine's drift hits
// them alike.
func interleave(n int, cmds []netCmd) ([][]time.Duration, error) {
	out := make([][]time.Duration, len(cmds))
	for _, c := range cmds {
		if _, err := c.run(); err != nil {
			return nil, fmt.Errorf("network: warm-up %s %s: %w", c.who, c.label, err)
		}
	}
	for i := 0; i < n; i++ {
		for j := range cmds {
			k := (i + j) % len(cmds)
			if i%2 == 1 {
				k = len(cmds) - 1 - k
			}
			d, err := cmds[k].run()
			if err != nil {
				return nil, fmt.Errorf("network: %s %s: %w", cmds[k].who, cmds[k].label, err)
			}
			out[k] = append(out[k], d)
		}
	}
	return out, nil
}

// timingExec runs CNI plugins as libcni does and records how long each
// run of each plugin took, by plugin and command.
type timingExec struct {
	invoke.Exec
	mu    sync.Mutex
	times map[string][]time.Duration
}

func (t *timingExec) ExecPlugin(ctx context.Context, path string, stdin []byte, environ []string) ([]byte, error) {
	cmd := ""
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "CNI_COMMAND="); ok {
			cmd = v
		}
	}
	// The plugin runs are the only processes the runner reaps meanwhile:
	// the growth of RUSAGE_CHILDREN is the plugin's CPU time, the plugins
	// it runs itself included (bridge runs host-local).
	cpu0 := childrenCPU()
	start := time.Now()
	out, err := t.Exec.ExecPlugin(ctx, path, stdin, environ)
	t.record(filepath.Base(path)+" "+cmd, time.Since(start))
	t.record(filepath.Base(path)+" "+cmd+", CPU", childrenCPU()-cpu0)
	return out, err
}

// selfCPU is the user + system time of the runner itself.
func selfCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// childrenCPU is the user + system time of the runner's reaped children.
func childrenCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (t *timingExec) FindInPath(plugin string, paths []string) (string, error) {
	return t.Exec.FindInPath(plugin, paths)
}

func (t *timingExec) Decode(b []byte) (version.PluginInfo, error) { return t.Exec.Decode(b) }

func (t *timingExec) record(k string, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.times[k] = append(t.times[k], d)
}

// cniBreakdown attaches and detaches a namespace to the builtin network n
// times through libcni, with and without a published port, and reports the
// median of each step. The bridge plugin runs host-local itself: its time
// includes host-local's.
func (e *env) cniBreakdown(res *bench.Results) error {
	store := network.NewStore(e.rtdRoot)
	n, err := store.Get(network.Bridge)
	if err != nil {
		return err
	}
	te := &timingExec{Exec: &invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: os.Stderr}}, times: map[string][]time.Duration{}}
	ctx := e.ctx
	for _, withPort := range []bool{false, true} {
		for i := 0; i < e.o.n; i++ {
			var ports []network.Port
			if withPort {
				port, err := freePort()
				if err != nil {
					return err
				}
				ports = []network.Port{{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 80, Protocol: "tcp"}}
			}
			id := e.id("cni")
			a := network.NewAttachment(store, n, e.rtdRoot+"\x00"+id, filepath.Join(e.work, "netns-"+id), ports)
			start := time.Now()
			if err := network.CreateNS(a.NetNS); err != nil {
				return err
			}
			te.record("netns create", time.Since(start))
			if err := network.RemoveNS(a.NetNS); err != nil {
				return err
			}
			start, self0, cpu0 := time.Now(), selfCPU(), childrenCPU()
			err := network.Attach(ctx, a, te)
			te.record(fmt.Sprintf("attach total (ports %v)", withPort), time.Since(start))
			te.record(fmt.Sprintf("attach total (ports %v), CPU in process (rtd's own)", withPort), selfCPU()-self0)
			te.record(fmt.Sprintf("attach total (ports %v), CPU with the plugins", withPort), selfCPU()-self0+childrenCPU()-cpu0)
			start, self0, cpu0 = time.Now(), selfCPU(), childrenCPU()
			derr := network.Detach(ctx, a, te)
			te.record(fmt.Sprintf("detach total (ports %v)", withPort), time.Since(start))
			te.record(fmt.Sprintf("detach total (ports %v), CPU in process (rtd's own)", withPort), selfCPU()-self0)
			te.record(fmt.Sprintf("detach total (ports %v), CPU with the plugins", withPort), selfCPU()-self0+childrenCPU()-cpu0)
			if err != nil || derr != nil {
				return fmt.Errorf("cni breakdown: attach: %v, detach: %v", err, derr)
			}
		}
	}
	// The floor under each plugin run: starting the plugin binary to do
	// nothing (CNI VERSION). bridge ADD and DEL each start two (bridge runs
	// host-local).
	for _, plugin := range []string{"bridge", "host-local"} {
		path, err := te.FindInPath(plugin, network.PluginPath)
		if err != nil {
			return err
		}
		for i := 0; i < e.o.n; i++ {
			cmd := exec.Command(path)
			cmd.Env = []string{"CNI_COMMAND=VERSION"}
			cmd.Stdin = strings.NewReader("{}")
			start := time.Now()
			cpu0 := childrenCPU()
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("%s VERSION: %v: %s", plugin, err, out)
			}
			te.record("process start of "+plugin+", no work (CNI VERSION)", time.Since(start))
			te.record("process start of "+plugin+", no work (CNI VERSION), CPU", childrenCPU()-cpu0)
		}
	}
	// The same for a C program: what any process start costs here.
	if err := e.trueStarts(te); err != nil {
		return err
	}
	keys := make([]string, 0, len(te.times))
	for k := range te.times {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		res.Values = append(res.Values, bench.Value{Name: "network: " + k + " (median)", Value: round(bench.Median(te.times[k])),
			Note: fmt.Sprintf("%d runs", len(te.times[k]))})
	}
	return nil
}

// trueStarts records n starts of /bin/true: what any process start costs.
func (e *env) trueStarts(te *timingExec) error {
	for i := 0; i < e.o.n; i++ {
		cpu0, start := childrenCPU(), time.Now()
		if err := exec.Command("/bin/true").Run(); err != nil {
			return err
		}
		te.record("process start of /bin/true (C)", time.Since(start))
		te.record("process start of /bin/true (C), CPU", childrenCPU()-cpu0)
	}
	return nil
}

// freePort returns a TCP port of 127.0.0.1 nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
