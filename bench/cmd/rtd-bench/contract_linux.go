package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/driver"
)

// contract measures driver launch + handshake, and a State round trip
// through a launched driver against a raw unix-socket ping-pong with
// another process (the driver is another process too).
func (e *env) contract(res *bench.Results) error {
	if err := e.contractLaunch(res); err != nil {
		return err
	}
	p, err := e.launch("linux")
	if err != nil {
		return err
	}
	defer p.Close()
	c := p.Client()
	id := e.id("rt")
	if _, err := c.Create(e.ctx, &driver.CreateRequest{ID: id, Bundle: e.sleeper}); err != nil {
		return err
	}
	defer c.Delete(e.ctx, &driver.DeleteRequest{ID: id, Force: true})
	if err := c.Start(e.ctx, id); err != nil {
		return err
	}
	if err := e.contractRoundTrip(res, p, id); err != nil {
		return err
	}
	// The transport alone: State of an unknown id only stats a directory in
	// the driver and comes back NotFound.
	floor := perCall(contractBatch, func() error {
		if _, err := c.State(e.ctx, "no-such-container"); !errdefs.IsNotFound(err) {
			return fmt.Errorf("state of an unknown id: %v, want NotFound", err)
		}
		return nil
	})
	var ds []time.Duration
	for i := 0; i < e.o.n; i++ {
		d, err := floor()
		if err != nil {
			return err
		}
		ds = append(ds, d)
	}
	res.Values = append(res.Values, bench.Value{Name: "contract round trip floor: State of an unknown id (go-plugin gRPC, no work in the driver)", Value: round(bench.Median(ds))})
	return nil
}

// contractBatch is how many calls one round-trip sample averages.
const contractBatch = 200

// contractLaunch measures driver launch + handshake, and with one Info.
func (e *env) contractLaunch(res *bench.Results) error {
	var launches, infos []time.Duration
	for i := 0; i < e.o.n; i++ {
		start := time.Now()
		p, err := e.launch("linux")
		if err != nil {
			return err
		}
		launched := time.Since(start)
		_, err = p.Client().Info(e.ctx)
		info := time.Since(start)
		p.Close()
		if err != nil {
			return err
		}
		launches, infos = append(launches, launched), append(infos, info)
	}
	lm := bench.Median(launches)
	res.Values = append(res.Values,
		bench.Value{Name: "linux driver launch + go-plugin handshake", Value: round(lm), Goal: "<= 10ms", Met: bench.Met(lm <= 10*time.Millisecond)},
		bench.Value{Name: "linux driver launch + handshake + one Info", Value: round(bench.Median(infos))})
	return nil
}

// contractRoundTrip compares State of the running container id through
// driver process p with a raw unix-socket ping-pong.
func (e *env) contractRoundTrip(res *bench.Results, p *driver.Process, id string) error {
	c := p.Client()
	ping, peer, stop, err := e.echoPeer()
	if err != nil {
		return err
	}
	defer stop()
	// Where the two ends of a round trip run decides its cost on this
	// machine more than anything else (a wakeup on the other CPU: ~30 µs,
	// on the same CPU: a few µs), and the scheduler moves them at will: so
	// both sides are measured with the caller (this runner), the driver and
	// the echo peer pinned to one CPU, then to different CPUs.
	placements := []struct {
		name         string
		caller, peer int
	}{{"same CPU", 0, 0}, {"different CPUs", 0, 1}}
	if runtime.NumCPU() < 2 {
		placements = placements[:1]
	}
	unpin := func() {
		for _, pid := range []int{os.Getpid(), p.Pid(), peer} {
			_ = pin(pid, -1)
		}
	}
	defer unpin() // also when a step fails
	for _, pl := range placements {
		for _, x := range []struct{ pid, cpu int }{{os.Getpid(), pl.caller}, {p.Pid(), pl.peer}, {peer, pl.peer}} {
			if err := pin(x.pid, x.cpu); err != nil {
				return fmt.Errorf("pin pid %d to CPU %d: %w", x.pid, x.cpu, err)
			}
		}
		pair, err := bench.AB("contract round trip, "+pl.name+": State of a running container vs raw unix-socket ping-pong (per call, both to another process)",
			"State over go-plugin gRPC", "1-byte ping-pong", e.o.n,
			perCall(contractBatch, func() error { _, err := c.State(e.ctx, id); return err }),
			perCall(contractBatch, ping))
		if err != nil {
			return err
		}
		pair.GoalRatio(5)
		res.Pairs = append(res.Pairs, pair)
	}
	return nil
}

// perCall runs f n times and returns the mean time per call.
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

// echoPeer starts this binary again as a one-byte echo server and returns a
// ping-pong call to it, its pid and a function that stops it.
func (e *env) echoPeer() (func() error, int, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, 0, nil, err
	}
	path := filepath.Join(e.work, "echo.sock")
	cmd := exec.Command(self, "-echo", path)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, 0, nil, err
	}
	var conn net.Conn
	deadline := time.Now().Add(5 * time.Second)
	for {
		if conn, err = net.Dial("unix", path); err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, 0, nil, fmt.Errorf("echo server: %w", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b := []byte{1}
	call := func() error {
		if _, err := conn.Write(b); err != nil {
			return err
		}
		_, err := conn.Read(b)
		return err
	}
	stop := func() {
		conn.Close() // the server exits at EOF
		_ = cmd.Wait()
	}
	return call, cmd.Process.Pid, stop, nil
}

// pin sets the CPU affinity of every thread of process pid to cpu (-1: all
// CPUs); threads it creates later inherit it from their creator.
func pin(pid, cpu int) error {
	var set unix.CPUSet
	if cpu < 0 {
		for i := 0; i < runtime.NumCPU(); i++ {
			set.Set(i)
		}
	} else {
		set.Set(cpu)
	}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
			return err
		}
	}
	return nil
}

// serveEcho serves one connection on a unix socket at path, echoing every
// byte, and returns when the peer closes it.
func serveEcho(path string) error {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	defer ln.Close()
	conn, err := ln.Accept()
	if err != nil {
		return err
	}
	defer conn.Close()
	b := make([]byte, 1)
	for {
		if _, err := conn.Read(b); err != nil {
			return nil
		}
		if _, err := conn.Write(b); err != nil {
			return nil
		}
	}
}

// concurrent starts many containers at once through rtd and through runc,
// in alternating rounds, and reports successes and throughput.
func (e *env) concurrent(res *bench.Results) error {
	n, rounds := 50, 3
	if e.o.smoke {
		n, rounds = 4, 1
	}
	sides := []struct {
		name string
		cmd  func() *exec.Cmd
	}{
		{"rtd run --rm", func() *exec.Cmd {
			return exec.Command(filepath.Join(e.o.bin, "rtd"), "--root", e.rtdRoot, "run", "--rm", "--driver", "linux", e.bundle)
		}},
		{"runc run", func() *exec.Cmd {
			return exec.Command("runc", "--root", filepath.Join(e.work, "runc"), "run", "--bundle", e.bundle, e.id("conc"))
		}},
	}
	type tally struct {
		ok, tried int
		walls     []time.Duration
		firstErr  string
	}
	tallies := make([]tally, len(sides))
	for r := 0; r < rounds; r++ {
		for k := range sides {
			i := k
			if r%2 == 1 {
				i = len(sides) - 1 - k
			}
			ok, wall, firstErr := burst(n, sides[i].cmd)
			t := &tallies[i]
			t.ok, t.tried, t.walls = t.ok+ok, t.tried+n, append(t.walls, wall)
			if t.firstErr == "" {
				t.firstErr = firstErr
			}
		}
	}
	rates := make([]float64, len(sides))
	for i, s := range sides {
		t := tallies[i]
		wall := bench.Median(t.walls)
		rates[i] = float64(n) / wall.Seconds()
		v := bench.Value{
			Name:  fmt.Sprintf("%d concurrent: %s (%d round(s), median round)", n, s.name, rounds),
			Value: fmt.Sprintf("%d/%d succeeded; %s for %d (%.1f containers/s)", t.ok, t.tried, round(wall), n, rates[i]),
			Note:  t.firstErr,
		}
		res.Values = append(res.Values, v)
	}
	allOK := tallies[0].ok == tallies[0].tried
	res.Values = append(res.Values, bench.Value{
		Name:  fmt.Sprintf("%d concurrent: rtd's throughput / runc's", n),
		Value: fmt.Sprintf("%.2fx", rates[0]/rates[1]),
		Goal:  ">= 0.60x, every rtd run succeeding",
		Met:   bench.Met(allOK && rates[0]/rates[1] >= 0.6),
	})
	return nil
}

// burst runs n commands at once and returns how many succeeded, the wall
// time until the last one ended and the first failure's output.
func burst(n int, cmd func() *exec.Cmd) (int, time.Duration, string) {
	var ok atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	firstErr := ""
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := cmd().CombinedOutput()
			if err == nil {
				ok.Add(1)
				return
			}
			mu.Lock()
			if firstErr == "" {
				firstErr = fmt.Sprintf("%v: %s", err, lastLines(string(out), 2))
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return int(ok.Load()), time.Since(start), firstErr
}
