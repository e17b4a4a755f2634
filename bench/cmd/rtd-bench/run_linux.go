package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/ocispec"
)

type options struct {
	n     int
	smoke bool
	bin   string
	out   string
}

// env is one benchmark run's scratch space.
type env struct {
	o      options
	work   string
	rootfs string
	bundle string
	seq    atomic.Int64
}

type results struct {
	Machine map[string]string
	Pairs   []*bench.Pair
	Values  []value
	Notes   []string
}

// value is a single measured number with its goal.
type value struct {
	Name  string
	Value string
	Goal  string
	Met   *bool `json:",omitempty"`
}

func run(o options) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (containers)")
	}
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	o.bin = bin
	// Under /run, as in real use (rtd's default root is /run/rtd, runc's
	// /run/runc): state on tmpfs, not on a disk that makes fsync cost.
	work, err := os.MkdirTemp("/run", "rtd-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	e := &env{o: o, work: work}
	if err := e.prepare(); err != nil {
		return err
	}
	res := &results{Machine: machine()}
	step := func(name string, f func() error) {
		fmt.Fprintf(os.Stderr, "rtd-bench: %s ...\n", name)
		if err := f(); err != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("%s: not measured: %v", name, err))
		}
	}
	step("linux: rtd run vs runc run", func() error { return e.linux(res) })
	step("gvisor: rtd run vs runsc run", func() error { return e.gvisor(res) })
	step("vm: rtd run", func() error { return e.vm(res) })
	step("contract round trip and launch", func() error { return e.contract(res) })
	step("memory of driver and monitors", func() error { return e.memory(res) })
	if !o.smoke {
		step("50 concurrent containers", func() error { return e.concurrent(res) })
	}
	step("containerd: rtd run vs ctr run", func() error { return e.containerd(res) })
	return write(o.out, res)
}

// prepare makes a busybox root filesystem and a bundle running /bin/true.
func (e *env) prepare() error {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		return fmt.Errorf("busybox not installed (make deps)")
	}
	e.rootfs = filepath.Join(e.work, "rootfs")
	if err := os.MkdirAll(filepath.Join(e.rootfs, "bin"), 0o755); err != nil {
		return err
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(e.rootfs, "bin", "busybox"), data, 0o755); err != nil {
		return err
	}
	for _, a := range []string{"true", "sleep", "sh"} {
		if err := os.Symlink("busybox", filepath.Join(e.rootfs, "bin", a)); err != nil {
			return err
		}
	}
	for _, d := range []string{"proc", "dev", "sys", "tmp"} {
		_ = os.MkdirAll(filepath.Join(e.rootfs, d), 0o755)
	}
	e.bundle = filepath.Join(e.work, "bundle")
	return writeBundle(e.bundle, ocispec.Default(e.rootfs, []string{"/bin/true"}))
}

func writeBundle(dir string, spec *specs.Spec) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644)
}

// timed runs a command to completion and returns its wall time.
func timed(name string, args ...string) bench.Sample {
	return func() (time.Duration, error) {
		cmd := exec.Command(name, args...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			return 0, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
		}
		return d, nil
	}
}

// fresh returns a sample that gets a new id for every run.
func (e *env) fresh(f func(id string) bench.Sample) bench.Sample {
	return func() (time.Duration, error) {
		return f(fmt.Sprintf("bench%d", e.seq.Add(1)))()
	}
}

func (e *env) rtd(args ...string) bench.Sample {
	return timed(filepath.Join(e.o.bin, "rtd"), append([]string{"--root", filepath.Join(e.work, "rtdroot")}, args...)...)
}

func (e *env) linux(res *results) error {
	runcRoot := filepath.Join(e.work, "runc")
	p, err := bench.AB("linux: rtd run --rm vs runc run", "rtd run --rm", "runc run", e.o.n,
		e.rtd("run", "--rm", e.bundle),
		e.fresh(func(id string) bench.Sample {
			return timed("runc", "--root", runcRoot, "run", "--bundle", e.bundle, id)
		}))
	if err != nil {
		return err
	}
	p.GoalRatio(1.2)
	res.Pairs = append(res.Pairs, p)
	lcrun := filepath.Join(e.o.bin, "lcrun")
	if _, err := os.Stat(lcrun); err != nil {
		res.Notes = append(res.Notes, "libcontainer direct: not measured: bin/lcrun missing (make bench builds it)")
		return nil
	}
	lcRoot := filepath.Join(e.work, "lc")
	p, err = bench.AB("linux: rtd run --rm vs libcontainer in-process", "rtd run --rm", "libcontainer", e.o.n,
		e.rtd("run", "--rm", e.bundle),
		e.fresh(func(id string) bench.Sample { return timed(lcrun, lcRoot, id, e.bundle) }))
	if err != nil {
		return err
	}
	res.Pairs = append(res.Pairs, p)
	return nil
}

func (e *env) gvisor(res *results) error {
	if _, err := exec.LookPath("runsc"); err != nil {
		return fmt.Errorf("runsc not installed")
	}
	runscRoot := filepath.Join(e.work, "runsc")
	p, err := bench.AB("gvisor: rtd run --rm vs runsc run", "rtd run --rm --driver gvisor", "runsc run", e.o.n,
		e.rtd("run", "--rm", "--driver", "gvisor", e.bundle),
		e.fresh(func(id string) bench.Sample {
			return timed("runsc", "--root", runscRoot, "--platform=ptrace", "--network=none", "run", "--bundle", e.bundle, id)
		}))
	if err != nil {
		return err
	}
	p.GoalRatio(1.1)
	res.Pairs = append(res.Pairs, p)
	return nil
}

func (e *env) vm(res *results) error {
	n := e.o.n
	if n > 5 {
		n = 5 // ~2-3 s each under TCG
	}
	var ds []time.Duration
	s := e.rtd("run", "--rm", "--driver", "vm", e.bundle)
	for i := 0; i < n; i++ {
		d, err := s()
		if err != nil {
			return err
		}
		ds = append(ds, d)
	}
	res.Values = append(res.Values, value{Name: "vm: rtd run --rm --driver vm /bin/true (TCG)", Value: bench.Median(ds).Round(time.Millisecond).String(),
		Goal: "<= 1.15x a bare QEMU boot (bare boot not measured by this runner: see docs/drivers/vm.md for the driver's phase benchmark)"})
	return nil
}

// contract measures a State round trip through a launched driver against a
// raw unix-socket ping-pong, and launch + handshake.
func (e *env) contract(res *results) error {
	ctx := context.Background()
	state := filepath.Join(e.work, "driverstate")
	launch := func() (*driver.Client, error) {
		return driver.Launch(ctx, filepath.Join(e.o.bin, "rtd-driver-linux"), driver.LaunchOptions{
			Name: "linux", Env: []string{"RTD_DRIVER_STATE_DIR=" + state}, SocketDir: filepath.Join(e.work, "sock"),
		})
	}
	var launches []time.Duration
	for i := 0; i < e.o.n; i++ {
		start := time.Now()
		c, err := launch()
		if err != nil {
			return err
		}
		if _, err := c.Info(ctx); err != nil {
			c.Close()
			return err
		}
		launches = append(launches, time.Since(start))
		c.Close()
	}
	lm := bench.Median(launches)
	met := lm <= 10*time.Millisecond
	res.Values = append(res.Values, value{Name: "driver launch + handshake + Info", Value: lm.Round(10 * time.Microsecond).String(), Goal: "<= 10ms", Met: &met})

	c, err := launch()
	if err != nil {
		return err
	}
	defer c.Close()
	sleeper := filepath.Join(e.work, "sleeper")
	if err := writeBundle(sleeper, ocispec.Default(e.rootfs, []string{"/bin/sleep", "1000"})); err != nil {
		return err
	}
	if _, err := c.Create(ctx, &driver.CreateRequest{ID: "rt", Bundle: sleeper}); err != nil {
		return err
	}
	defer c.Delete(ctx, &driver.DeleteRequest{ID: "rt", Force: true})
	if err := c.Start(ctx, "rt"); err != nil {
		return err
	}
	ping, stop, err := pingPong(filepath.Join(e.work, "ping.sock"))
	if err != nil {
		return err
	}
	defer stop()
	const batch = 200
	p, err := bench.AB("contract round trip: State vs raw unix-socket ping-pong (per call)", "State over go-plugin gRPC", "raw socket", e.o.n,
		perCall(batch, func() error { _, err := c.State(ctx, "rt"); return err }),
		perCall(batch, ping))
	if err != nil {
		return err
	}
	p.GoalRatio(5)
	res.Pairs = append(res.Pairs, p)
	return nil
}

func perCall(n int, f func() error) bench.Sample {
	return func() (time.Duration, error) {
		start := time.Now()
		for i := 0; i < n; i++ {
			if err := f(); err != nil {
				return 0, err
			}
		}
		return time.Since(start) / time.Duration(n), nil
	}
}

// pingPong serves a one-byte echo on a unix socket and returns a client call.
func pingPong(path string) (func() error, func(), error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, nil, err
	}
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		b := make([]byte, 1)
		for {
			if _, err := conn.Read(b); err != nil {
				return
			}
			if _, err := conn.Write(b); err != nil {
				return
			}
		}
	}()
	conn, err := net.Dial("unix", path)
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	b := []byte{1}
	call := func() error {
		if _, err := conn.Write(b); err != nil {
			return err
		}
		_, err := conn.Read(b)
		return err
	}
	return call, func() { conn.Close(); ln.Close() }, nil
}

// concurrent starts 50 containers at once through rtd and through runc.
func (e *env) concurrent(res *results) error {
	const n = 50
	sleeper := filepath.Join(e.work, "sleeper")
	for _, c := range []struct {
		name string
		cmd  func(i int) *exec.Cmd
	}{
		{"rtd run --rm", func(i int) *exec.Cmd {
			return exec.Command(filepath.Join(e.o.bin, "rtd"), "--root", filepath.Join(e.work, "rtdroot"), "run", "--rm", e.bundle)
		}},
		{"runc run", func(i int) *exec.Cmd {
			return exec.Command("runc", "--root", filepath.Join(e.work, "runc"), "run", "--bundle", e.bundle, fmt.Sprintf("conc%d-%d", i, e.seq.Add(1)))
		}},
	} {
		var ok atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				if err := c.cmd(i).Run(); err == nil {
					ok.Add(1)
				}
			}(i)
		}
		wg.Wait()
		wall := time.Since(start)
		res.Values = append(res.Values, value{Name: "50 concurrent: " + c.name,
			Value: fmt.Sprintf("%d/%d succeeded in %s (%.1f containers/s)", ok.Load(), n, wall.Round(time.Millisecond), float64(ok.Load())/wall.Seconds())})
	}
	_ = sleeper
	return nil
}
