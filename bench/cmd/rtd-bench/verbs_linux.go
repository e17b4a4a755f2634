package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/kit/monitor/watch"
)

// verbsJob is one container for serveVerbs: a runc-compatible CLI driven
// verb by verb.
type verbsJob struct {
	Binary string
	Global []string // global flags (--root ...)
	Bundle string
	ID     string
	Dir    string // scratch: pid file, stderr
}

// splitVerbs is one container through a runc-compatible CLI verb by verb,
// as the driver contract (and containerd's shim) drive it: create, start,
// wait for the container's process, delete. Like a shim, the process that
// runs the verbs is the subreaper of what create leaves behind and reaps it
// at once (here pid 1 reaps zombies late, and runsc delete waits for a
// sandbox that is only a zombie): this runner re-executed with -verbs, which
// reports the time from create to the end of delete.
func (e *env) splitVerbs(binary string, global []string) bench.Sample {
	return func() (time.Duration, error) {
		job := verbsJob{Binary: binary, Global: global, Bundle: e.bundle, ID: e.id("verbs"), Dir: e.work}
		return runSelfJob("verbs", job, binary+" create/start/delete")
	}
}

// serveVerbs is the -verbs mode: run the job, print its nanoseconds.
func serveVerbs(arg string) error {
	var job verbsJob
	if err := startSelfJob(arg, &job); err != nil {
		return err
	}
	pidFile := filepath.Join(job.Dir, job.ID+".pid")
	errPath := filepath.Join(job.Dir, job.ID+".stderr")
	defer os.Remove(pidFile)
	defer os.Remove(errPath)
	// stdio: /dev/null and a file, never a pipe, which the container would
	// hold open past create.
	cli := func(args ...string) error {
		stderr, err := os.Create(errPath)
		if err != nil {
			return err
		}
		defer stderr.Close()
		cmd := exec.Command(job.Binary, append(append([]string{}, job.Global...), args...)...)
		// Not Go's default /dev/null: runsc hands its stdio to the sandbox
		// user and would chown the host's /dev/null. An empty pipe for
		// stdin, the log file for stdout (a pipe would hold Run until the
		// container, which inherits it, exits).
		cmd.Stdin = strings.NewReader("")
		cmd.Stdout, cmd.Stderr = stderr, stderr
		if err := cmd.Run(); err != nil {
			out, _ := os.ReadFile(errPath)
			return fmt.Errorf("%s %s: %v: %s", job.Binary, args[0], err, lastLines(string(out), 3))
		}
		return nil
	}
	start := time.Now()
	if err := cli("create", "--bundle", job.Bundle, "--pid-file", pidFile, job.ID); err != nil {
		return err
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	if err := cli("start", job.ID); err != nil {
		_ = cli("delete", "--force", job.ID)
		return err
	}
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != unix.EINTR {
			break
		}
	}
	watch.ReapRest(2 * time.Second) // runsc's gofer, adopted like the sandbox
	if err := cli("delete", job.ID); err != nil {
		return err
	}
	fmt.Println(time.Since(start).Nanoseconds())
	return nil
}
