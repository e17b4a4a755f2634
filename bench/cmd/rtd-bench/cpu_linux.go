package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
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
// CPU time per container, not wall time.
func (e *env) cpuPerContainer(args []string, env []string, k int) bench.Sample {
	return func() (time.Duration, error) {
		job := cpuJob{Args: args, Env: env, K: k, Seq: int(e.seq.Add(int64(k)))}
		data, err := json.Marshal(job)
		if err != nil {
			return 0, err
		}
		self, err := os.Executable()
		if err != nil {
			return 0, err
		}
		out, err := exec.Command(self, "-cpu", string(data)).Output()
		if err != nil {
			msg := ""
			if ee, ok := err.(*exec.ExitError); ok {
				msg = lastLines(string(ee.Stderr), 3)
			}
			return 0, fmt.Errorf("%s (cpu): %v: %s", args[0], err, msg)
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("-cpu printed %q", out)
		}
		return time.Duration(ns), nil
	}
}

// serveCPU is the -cpu mode: run the job, print the CPU nanoseconds per run.
func serveCPU(arg string) error {
	var job cpuJob
	if err := json.Unmarshal([]byte(arg), &job); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
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
