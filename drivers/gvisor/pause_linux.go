package gvisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
	"github.com/rtd-project/rtd/kit/monitor"
)

// pausePath is where a sandbox's pause container sees the driver's binary;
// run under that name it pauses (Reexec).
const pausePath = "/rtd-pause"

// waiterArg starts the driver's binary as a sub-container's waiter:
// "BINARY rtd-gvisor-waiter DIR ID LOGFILE RUNSC GLOBALARGS...".
const waiterArg = "rtd-gvisor-waiter"

// startFifo is the FIFO in a sub-container's dir through which Start asks
// its waiter to start it; the waiter answers in startDone.
const (
	startFifo = "start.fifo"
	startDone = "start.json"
)

// memberStartTimeout bounds a sub-container's start by its waiter.
const memberStartTimeout = 2 * time.Minute

// pause is the sandbox's first process: it holds the sandbox until a
// SIGTERM or SIGINT (as init of its PID namespace it gets no default
// action).
func pause() int {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
	return 0
}

// startResult is startDone.
type startResult struct{ Error string }

// waiterMain is a sub-container's waiter, the process its monitor watches,
// with the workload's stdio. runsc gives a sub-container the stdio of
// `runsc start` (not of create), and cannot wait for a container that is
// only created: so the waiter, asked through the FIFO, runs runsc start
// itself and writes the result, then drops the workload's stdio, runs
// `runsc wait` and exits with the container's status (128+signal for a
// killed one). When runsc cannot tell (the sandbox died), the container
// died with it: 137.
func waiterMain(args []string) int {
	if len(args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: rtd-gvisor-waiter DIR ID LOGFILE RUNSC GLOBALARGS...")
		return 2
	}
	dir, id, logFile, runsc, global := args[0], args[1], args[2], args[3], args[4:]
	diag, err := os.OpenFile(filepath.Join(dir, "waiter.log"), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return 128 + int(syscall.SIGKILL)
	}
	for started := false; !started; {
		if err := awaitStartRequest(filepath.Join(dir, startFifo)); err != nil {
			fmt.Fprintf(diag, "waiter: %v\n", err)
			return 128 + int(syscall.SIGKILL)
		}
		cmd := exec.Command(runsc, append(global, "--log", logFile, "--log-format=json", "start", id)...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		var res startResult
		if err := cmd.Run(); err != nil {
			if res.Error = runscError(logFile); res.Error == "" {
				res.Error = "runsc start: " + err.Error()
			}
		}
		started = res.Error == ""
		if err := atomicfile.WriteJSON(filepath.Join(dir, startDone), res, 0o600); err != nil {
			fmt.Fprintf(diag, "waiter: %v\n", err)
		}
	}
	// Whoever reads the workload's output must see its end when the
	// container ends: the waiter keeps no copy. Its own log takes the
	// place of the workload's stdio, never /dev/null: runsc hands the
	// sandbox's user what it is given and chowns it.
	for fd := 0; fd < 3; fd++ {
		_ = unix.Dup3(int(diag.Fd()), fd, 0)
	}
	wait := exec.Command(runsc, append(global, "wait", id)...)
	wait.Stdin, wait.Stderr = diag, diag
	out, err := wait.Output()
	var res struct{ ExitStatus *int }
	if err == nil {
		err = json.Unmarshal(out, &res)
	}
	if err != nil || res.ExitStatus == nil {
		fmt.Fprintf(diag, "waiter: runsc wait: %v %s\n", err, out)
		return 128 + int(syscall.SIGKILL)
	}
	return *res.ExitStatus
}

// awaitStartRequest blocks until a byte comes through the FIFO.
func awaitStartRequest(fifo string) error {
	for {
		f, err := os.OpenFile(fifo, os.O_RDONLY, 0)
		if err != nil {
			return err
		}
		b := make([]byte, 1)
		n, _ := f.Read(b)
		f.Close()
		if n == 1 {
			return nil
		}
	}
}

// startMember asks the waiter of a sub-container to run `runsc start`
// and returns its result.
func (d *Driver) startMember(ctx context.Context, id string) error {
	dir := d.layout.ContainerDir(id)
	done := filepath.Join(dir, startDone)
	os.Remove(done)
	if err := requestStart(dir); err != nil {
		return driver.FailedPreconditionf("start %s: its waiter does not answer (it was killed?): %v", id, err)
	}
	ctx, cancel := context.WithTimeout(ctx, memberStartTimeout)
	defer cancel()
	for {
		var res startResult
		if data, err := os.ReadFile(done); err == nil && json.Unmarshal(data, &res) == nil {
			if res.Error != "" {
				return startError(id, errors.New(res.Error))
			}
			return nil
		}
		if monitor.ReadExit(dir) != nil {
			return driver.FailedPreconditionf("start %s: the container ended before it started (killed?)", id)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("start %s: %w", id, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// requestStart writes the start request into the FIFO of the sub-container
// in dir. The waiter opens it right after Create: this waits for it (10 s
// at most).
func requestStart(dir string) error {
	fifo := filepath.Join(dir, startFifo)
	deadline := time.Now().Add(10 * time.Second)
	for {
		fd, err := unix.Open(fifo, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err == nil {
			_, err = unix.Write(fd, []byte{1})
			unix.Close(fd)
			return err
		}
		if err != unix.ENXIO || time.Now().After(deadline) {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
}
