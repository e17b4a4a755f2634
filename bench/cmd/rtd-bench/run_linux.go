package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// env is one benchmark run's scratch space and settings.
type env struct {
	o       options
	ctx     context.Context
	work    string // scratch directory, removed at the end
	rootfs  string // busybox root filesystem
	bundle  string // rtd's default spec running /bin/true in rootfs
	sleeper string // the same running /bin/sleep 1000
	rtdRoot string // --root of every rtd command
	seq     atomic.Int64
}

// skipError marks a comparison this host cannot make (a backend missing, a
// driver not ready): it is listed as skipped, not failed.
type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

func skipf(format string, args ...any) error {
	return &skipError{reason: fmt.Sprintf(format, args...)}
}

// runAll runs every step (or those -run selects) and writes the results: a
// step that breaks fails the run, one this host cannot make is skipped.
func runAll(o options) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (containers)")
	}
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	o.bin = bin
	// Under /run, as in real use (rtd's default root is /run/rtd, runc's
	// /run/runc): state on tmpfs, not on a disk where fsync costs.
	work, err := os.MkdirTemp("/run", "rtd-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	e := &env{o: o, ctx: context.Background(), work: work, rtdRoot: filepath.Join(work, "rtdroot")}
	if err := e.prepare(); err != nil {
		return err
	}
	res := &bench.Results{Machine: machine()}
	steps := "all"
	if o.run != nil {
		steps = o.run.String()
	}
	res.Machine["runner"] = fmt.Sprintf("rtd-bench -n %d, smoke %v, steps %s", o.n, o.smoke, steps)
	for _, s := range []struct {
		name string
		f    func(*bench.Results) error
	}{
		{"linux", e.linux},
		{"gvisor", e.gvisor},
		{"contract", e.contract},
		{"memory", e.memory},
		{"concurrent", e.concurrent},
		{"containerd", e.containerd},
		{"shim", e.shim},
		{"cripod", e.criPod},
		{"vm", e.vm},
		{"kernels", e.kernels},
		{"vmpod", e.vmPod},
		{"wasm", e.wasm},
		{"unikernel", e.unikernel},
		{"network", e.networking},
		{"images", e.images},
	} {
		if o.run != nil && !o.run.MatchString(s.name) {
			continue
		}
		fmt.Fprintf(os.Stderr, "rtd-bench: %s ...\n", s.name)
		start := time.Now()
		err := s.f(res)
		var skip *skipError
		switch {
		case errors.As(err, &skip):
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %s", s.name, skip.reason))
		case err != nil:
			res.Failed = append(res.Failed, fmt.Sprintf("%s: %v", s.name, err))
		}
		fmt.Fprintf(os.Stderr, "rtd-bench: %s: %s\n", s.name, time.Since(start).Round(time.Millisecond))
	}
	if err := write(o.out, res); err != nil {
		return err
	}
	if len(res.Failed) > 0 {
		return fmt.Errorf("%d comparison(s) failed: %s", len(res.Failed), strings.Join(res.Failed, "; "))
	}
	return nil
}

// prepare makes a busybox root filesystem and two bundles of rtd's default
// spec: /bin/true, and /bin/sleep 1000 for containers that must stay up.
func (e *env) prepare() error {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		return fmt.Errorf("busybox not installed (make deps installs busybox-static)")
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
	for _, d := range []string{"proc", "dev", "sys", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(e.rootfs, d), 0o755); err != nil {
			return err
		}
	}
	e.bundle = filepath.Join(e.work, "bundle")
	if err := writeBundle(e.bundle, ocispec.Default(e.rootfs, []string{"/bin/true"})); err != nil {
		return err
	}
	e.sleeper = filepath.Join(e.work, "sleeper")
	return writeBundle(e.sleeper, ocispec.Default(e.rootfs, []string{"/bin/sleep", "1000"}))
}

// writeBundle writes spec as dir/config.json.
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

// timed runs a command to completion and returns its wall time; a non-zero
// exit is an error carrying the command's output.
func timed(name string, args ...string) bench.Sample { return timedEnv(nil, name, args...) }

// timedEnv is timed with env added to the runner's environment.
func timedEnv(env []string, name string, args ...string) bench.Sample {
	return func() (time.Duration, error) {
		cmd := exec.Command(name, args...)
		if env != nil {
			cmd.Env = append(os.Environ(), env...)
		}
		// A pipe, not Go's default /dev/null: runsc hands its stdio to the
		// sandbox user and would chown the host's /dev/null.
		cmd.Stdin = strings.NewReader("")
		return timeRun(cmd)
	}
}

// timeRun runs cmd and returns how long it took; an error names the
// command and ends with the last lines of its output.
func timeRun(cmd *exec.Cmd) (time.Duration, error) {
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s: %v: %s", strings.Join(cmd.Args, " "), err, lastLines(string(out), 5))
	}
	return d, nil
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// fresh returns a sample that gets a new id for every run.
func (e *env) fresh(f func(id string) bench.Sample) bench.Sample {
	return func() (time.Duration, error) {
		return f(e.id("bench"))()
	}
}

// id returns a new container id.
func (e *env) id(prefix string) string { return fmt.Sprintf("%s%d", prefix, e.seq.Add(1)) }

// rtd is a sample of one rtd command against the run's --root.
func (e *env) rtd(args ...string) bench.Sample {
	return timed(filepath.Join(e.o.bin, "rtd"), append([]string{"--root", e.rtdRoot}, args...)...)
}

// rtdCold is e.rtd with a driver process launched per command (warm
// drivers off), as rtd ran before warm drivers.
func (e *env) rtdCold(args ...string) bench.Sample {
	return timedEnv([]string{"RTD_DRIVER_IDLE=0"}, filepath.Join(e.o.bin, "rtd"), append([]string{"--root", e.rtdRoot}, args...)...)
}

// linux compares rtd run --rm with runc run and with libcontainer called
// directly (lcrun), then breaks rtd's time down into spans.
func (e *env) linux(res *bench.Results) error {
	runcRoot := filepath.Join(e.work, "runc")
	runcRun := e.fresh(func(id string) bench.Sample {
		return timed("runc", "--root", runcRoot, "run", "--bundle", e.bundle, id)
	})
	p, err := bench.AB("linux: rtd run --rm vs runc run", "rtd run --rm", "runc run", e.o.n,
		e.rtd("run", "--rm", "--driver", "linux", e.bundle), runcRun)
	if err != nil {
		return err
	}
	p.GoalRatio(1.5)
	p.Note = "warm driver (the default); stretch goal 1.2x"
	res.Pairs = append(res.Pairs, p)
	p, err = bench.AB("linux: rtd run --rm, a driver launched per command (RTD_DRIVER_IDLE=0) vs runc run", "rtd run --rm (cold driver)", "runc run", e.o.n,
		e.rtdCold("run", "--rm", "--driver", "linux", e.bundle), runcRun)
	if err != nil {
		return err
	}
	p.Note = "before warm drivers: the A/B of that change is this ratio against the one above"
	res.Pairs = append(res.Pairs, p)
	p, err = bench.AB("linux: rtd run --rm vs runc create, start, delete (the verbs the contract needs, bare)", "rtd run --rm", "runc create/start/delete", e.o.n,
		e.rtd("run", "--rm", "--driver", "linux", e.bundle),
		e.splitVerbs("runc", []string{"--root", runcRoot}))
	if err != nil {
		return err
	}
	p.GoalRatio(1.1)
	p.Note = "as containerd's runc shim drives runc: three runc commands per container"
	res.Pairs = append(res.Pairs, p)
	if err := e.cpu(res, runcRoot); err != nil {
		return err
	}
	lcrun := filepath.Join(e.o.bin, "lcrun")
	if _, err := os.Stat(lcrun); err != nil {
		return fmt.Errorf("%s missing: make bench builds it (go build ./bench/cmd/lcrun)", lcrun)
	}
	lcRoot := filepath.Join(e.work, "lc")
	p, err = bench.AB("linux: rtd run --rm vs libcontainer in-process (lcrun)", "rtd run --rm", "lcrun", e.o.n,
		e.rtd("run", "--rm", "--driver", "linux", e.bundle),
		e.fresh(func(id string) bench.Sample { return timed(lcrun, lcRoot, id, e.bundle) }))
	if err != nil {
		return err
	}
	res.Pairs = append(res.Pairs, p)
	if err := e.spans(res, "linux", e.bundle, e.o.n); err != nil {
		return err
	}
	// What starting each binary costs, with no work: rtd starts four
	// processes of its Go binaries per container, runc two.
	for _, c := range [][]string{
		{filepath.Join(e.o.bin, "rtd"), "--help"},
		{filepath.Join(e.o.bin, "rtd-driver-linux")}, // exits at once without go-plugin's cookie
		{lcrun},
		{"runc", "--version"},
	} {
		d, err := startCost(c[0], c[1:]...)
		if err != nil {
			return err
		}
		res.Values = append(res.Values, bench.Value{Name: "process start to exit, no work: " + filepath.Base(strings.Join(c, " ")), Value: round(d)})
	}
	return nil
}

// startCost is the median wall time of 20 runs of a command that does no
// work (its exit status is ignored: a driver without its cookie fails).
func startCost(name string, args ...string) (time.Duration, error) {
	var ds []time.Duration
	for i := 0; i < 20; i++ {
		cmd := exec.Command(name, args...)
		start := time.Now()
		err := cmd.Run()
		if _, ok := err.(*exec.ExitError); err != nil && !ok {
			return 0, err
		}
		ds = append(ds, time.Since(start))
	}
	return bench.Median(ds), nil
}

// spans runs containers through the driver SDK, as the CLI does, and
// reports the median of each step: where a `rtd run --rm` spends its time.
func (e *env) spans(res *bench.Results, name, bundle string, n int) error {
	steps := []string{"launch + handshake", "Create", "Start", "Wait (exit of /bin/true)", "Delete", "Close (driver exits)"}
	samples := make([][]time.Duration, len(steps))
	var total []time.Duration
	for i := 0; i < n; i++ {
		p, ts, err := e.lifecycle(name, bundle)
		if p != nil {
			p.Close()
		}
		if err != nil {
			return fmt.Errorf("%s spans: %w", name, err)
		}
		for j := range steps {
			samples[j] = append(samples[j], ts[j+1].Sub(ts[j]))
		}
		total = append(total, ts[len(ts)-1].Sub(ts[0]))
	}
	for j, s := range steps {
		res.Values = append(res.Values, bench.Value{Name: fmt.Sprintf("%s span (driver SDK, n=%d): %s", name, n, s), Value: round(bench.Median(samples[j]))})
	}
	res.Values = append(res.Values, bench.Value{Name: fmt.Sprintf("%s span (driver SDK, n=%d): whole container, no CLI", name, n), Value: round(bench.Median(total))})
	return nil
}

// lifecycle launches the driver and runs one container through it,
// returning the time at each step's end (the first is the start), and the
// driver process to close when it failed.
func (e *env) lifecycle(name, bundle string) (*driver.Process, []time.Time, error) {
	ts := []time.Time{time.Now()}
	p, err := e.launch(name)
	if err != nil {
		return nil, nil, err
	}
	ts = append(ts, time.Now())
	c := p.Client()
	id := e.id("span")
	if _, err := c.Create(e.ctx, &driver.CreateRequest{ID: id, Bundle: bundle}); err != nil {
		return p, nil, err
	}
	ts = append(ts, time.Now())
	if err := c.Start(e.ctx, id); err != nil {
		_, _ = c.Delete(e.ctx, &driver.DeleteRequest{ID: id, Force: true})
		return p, nil, err
	}
	ts = append(ts, time.Now())
	st, err := c.Wait(e.ctx, &driver.WaitRequest{ID: id})
	if err == nil && st.Code != 0 {
		err = fmt.Errorf("/bin/true exited %d (%s)", st.Code, st.Reason)
	}
	if err != nil {
		_, _ = c.Delete(e.ctx, &driver.DeleteRequest{ID: id, Force: true})
		return p, nil, err
	}
	ts = append(ts, time.Now())
	if _, err := c.Delete(e.ctx, &driver.DeleteRequest{ID: id}); err != nil {
		return p, nil, err
	}
	ts = append(ts, time.Now())
	p.Close()
	return nil, append(ts, time.Now()), nil
}

// launch starts a driver with its state where rtd run keeps it.
func (e *env) launch(name string) (*driver.Process, error) {
	return e.launchAt(name, filepath.Join(e.rtdRoot, "drivers", name))
}

// launchAt starts a driver with its state in dir.
func (e *env) launchAt(name, dir string) (*driver.Process, error) {
	return driver.Launch(e.ctx, filepath.Join(e.o.bin, "rtd-driver-"+name), driver.LaunchOptions{
		Name:      name,
		StateDir:  dir,
		SocketDir: filepath.Join(e.work, "sock"),
	})
}

// gvisor compares rtd run --rm --driver gvisor with runsc run.
func (e *env) gvisor(res *bench.Results) error {
	if _, err := exec.LookPath("runsc"); err != nil {
		return skipf("runsc not installed")
	}
	if err := e.ready("gvisor"); err != nil {
		return err
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
	p, err = bench.AB("gvisor: rtd run --rm vs runsc create, start, delete (the verbs the contract needs, bare)", "rtd run --rm --driver gvisor", "runsc create/start/delete", e.o.n,
		e.rtd("run", "--rm", "--driver", "gvisor", e.bundle),
		e.splitVerbs("runsc", []string{"--root", runscRoot, "--platform=ptrace", "--network=none"}))
	if err != nil {
		return err
	}
	p.Note = "rtd's own overhead over the same three runsc commands; each runsc command starts runsc's binary (~20 ms)"
	res.Pairs = append(res.Pairs, p)
	return e.spans(res, "gvisor", e.bundle, e.o.n)
}

// ready skips a comparison whose driver says it is not ready.
func (e *env) ready(name string) error {
	p, err := e.launch(name)
	if err != nil {
		return err
	}
	defer p.Close()
	info, err := p.Client().Info(e.ctx)
	if err != nil {
		return err
	}
	if !info.Health.Ready {
		return skipf("the %s driver is not ready: %s", name, info.Health.Reason)
	}
	return nil
}
