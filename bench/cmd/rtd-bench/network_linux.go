package main

import (
	"context"
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

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/core/network"
)

// networking compares rtd run --rm on the builtin bridge network with
// --network none (the network's whole cost), breaks that cost down into
// the namespace and each CNI plugin's ADD and DEL (timed in-process through
// libcni, as rtd calls them), and compares with docker's own cost for the
// same when docker is installed.
func (e *env) networking(res *bench.Results) error {
	if err := network.CheckPlugins(); err != nil {
		return skipf("%v", err)
	}
	p, err := bench.AB("network: rtd run --rm, bridge vs none (linux)", "--network bridge", "--network none", e.o.n,
		e.rtd("run", "--rm", "--driver", "linux", "--network", "bridge", e.rootfs, "/bin/true"),
		e.rtd("run", "--rm", "--driver", "linux", "--network", "none", e.rootfs, "/bin/true"))
	if err != nil {
		return err
	}
	cost := p.MedianA - p.MedianB
	p.Note = fmt.Sprintf("the network's cost (median difference): %s", round(cost))
	res.Pairs = append(res.Pairs, p)
	res.Values = append(res.Values, bench.Value{Name: "network: cost of --network bridge in rtd run --rm (median difference)",
		Value: round(cost), Goal: "<= 20ms", Met: bench.Met(cost <= 20*time.Millisecond)})
	if err := e.cniBreakdown(res); err != nil {
		return err
	}
	return e.dockerNetwork(res, cost)
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
	start := time.Now()
	out, err := t.Exec.ExecPlugin(ctx, path, stdin, environ)
	t.record(filepath.Base(path)+" "+cmd, time.Since(start))
	return out, err
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
			start = time.Now()
			err := network.Attach(ctx, a, te)
			te.record(fmt.Sprintf("attach total (ports %v)", withPort), time.Since(start))
			start = time.Now()
			derr := network.Detach(ctx, a, te)
			te.record(fmt.Sprintf("detach total (ports %v)", withPort), time.Since(start))
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
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("%s VERSION: %v: %s", plugin, err, out)
			}
			te.record("process start of "+plugin+", no work (CNI VERSION)", time.Since(start))
		}
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

// dockerNetwork compares with docker's own cost of a bridge network
// (docker run --rm --network bridge vs none), when docker is installed and
// its daemon answers; otherwise it says why not.
func (e *env) dockerNetwork(res *bench.Results, rtdCost time.Duration) error {
	if _, err := exec.LookPath("docker"); err != nil {
		res.Skipped = append(res.Skipped, "network: docker comparison: docker is not installed (Debian's docker.io; hack/docker.sh installs it)")
		return nil
	}
	if out, err := exec.Command("docker", "image", "inspect", "rtd-bench-busybox").CombinedOutput(); err != nil {
		res.Skipped = append(res.Skipped, "network: docker comparison: no rtd-bench-busybox image in docker ("+strings.TrimSpace(string(out))+")")
		return nil
	}
	p, err := bench.AB("network: docker run --rm, bridge vs none", "--network bridge", "--network none", e.o.n,
		timed("docker", "run", "--rm", "--network", "bridge", "rtd-bench-busybox", "/bin/true"),
		timed("docker", "run", "--rm", "--network", "none", "rtd-bench-busybox", "/bin/true"))
	if err != nil {
		return err
	}
	dcost := p.MedianA - p.MedianB
	p.Note = fmt.Sprintf("docker's network cost: %s; rtd's: %s", round(dcost), round(rtdCost))
	res.Pairs = append(res.Pairs, p)
	res.Values = append(res.Values, bench.Value{Name: "network: rtd's bridge cost vs docker's", Value: fmt.Sprintf("%s vs %s", round(rtdCost), round(dcost)),
		Goal: "below docker's", Met: bench.Met(rtdCost < dcost)})
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
