package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/bench"
)

// cpuJob is one sample for serveCPU: a command run K times in a row.
type cpuJob struct {
	Args []string // the command; "{id}" in an argument becomes a fresh id
	Env  []string // added to the runner's environment
	K    int
	Seq  int // first id number
}

// cpuPerContainer is a sample of the CPU time (user + system) that one
// container costs through a command, every process it starts included: the
// runner re-executes itself with -cpu as a child subreaper, runs the command
// job.K times, reaps everything the runs leave behind (rtd's monitors, a warm
// driver once it exits idle) and reads RUSAGE_CHILDREN. The sample is the
// CPU time per container, not wall time; a warm driver's start and exit are
// shared by the job's K containers.
func (e *env) cpuPerContainer(args []string, env []string, k int) bench.Sample {
	return func() (time.Duration, error) {
		seq := int(e.seq.Add(int64(k)))
		// A warm driver of this sample's own (its key hashes RTD_*), so
		// that its CPU time is counted: it starts within the sample and is
		// reaped at its end.
		// RTD_DRIVER_IDLE=2s (unless env says otherwise) ends it sooner
		// after the last container; its CPU while idle is a tick a second.
		env := append([]string{fmt.Sprintf("RTD_BENCH_SAMPLE=%d", seq), "RTD_DRIVER_IDLE=2s"}, env...)
		job := cpuJob{Args: args, Env: env, K: k, Seq: seq}
		return runSelfJob("cpu", job, args[0]+" (cpu)")
	}
}

// serveCPU is the -cpu mode: run the job, print the CPU nanoseconds per run.
func serveCPU(arg string) error {
	var job cpuJob
	if err := startSelfJob(arg, &job); err != nil {
		return err
	}
	for i := 0; i < job.K; i++ {
		args := make([]string, len(job.Args))
		for j, a := range job.Args {
			args[j] = strings.ReplaceAll(a, "{id}", fmt.Sprintf("cpu%d", job.Seq+i))
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), job.Env...)
		cmd.Stdin = strings.NewReader("")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, lastLines(string(out), 3))
		}
		// Reap what already ended (monitors), without waiting.
		for {
			pid, err := unix.Wait4(-1, nil, unix.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
	// Then everything left: monitors finishing, a warm driver exiting idle.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		pid, err := unix.Wait4(-1, nil, unix.WNOHANG, nil)
		if err == unix.ECHILD {
			break
		}
		if pid <= 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_CHILDREN, &ru); err != nil {
		return err
	}
	total := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Println(total.Nanoseconds() / int64(job.K))
	return nil
}

// cpu compares the CPU time one container costs through rtd run --rm (every
// process included: the CLI, the warm driver's share, the monitors,
// libcontainer's init) with runc run's (runc and runc init).
func (e *env) cpu(res *bench.Results, runcRoot string) error {
	k, n := 10, 5
	if e.o.smoke {
		k, n = 2, 2
	}
	rtd := []string{filepath.Join(e.o.bin, "rtd"), "--root", e.rtdRoot, "run", "--rm", "--driver", "linux", e.bundle}
	runc := []string{"runc", "--root", runcRoot, "run", "--bundle", e.bundle, "{id}"}
	p, err := bench.AB(fmt.Sprintf("linux: CPU time per container (user+system, all processes, %d containers per sample): rtd run --rm vs runc run", k),
		"rtd run --rm", "runc run", n, e.cpuPerContainer(rtd, nil, k), e.cpuPerContainer(runc, nil, k))
	if err != nil {
		return err
	}
	p.GoalRatio(1.5)
	p.Note = "CPU time, not wall time; rtd's side includes its monitors and the warm driver (reaped as a child subreaper once it exits idle)"
	res.Pairs = append(res.Pairs, p)
	cold, err := bench.AB(fmt.Sprintf("linux: CPU time per container (%d containers per sample): rtd run --rm with a driver per command (RTD_DRIVER_IDLE=0) vs runc run", k),
		"rtd run --rm (cold driver)", "runc run", n, e.cpuPerContainer(rtd, []string{"RTD_DRIVER_IDLE=0"}, k), e.cpuPerContainer(runc, nil, k))
	if err != nil {
		return err
	}
	cold.Note = "before warm drivers"
	res.Pairs = append(res.Pairs, cold)
	return nil
}
