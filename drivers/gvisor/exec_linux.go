//go:build linux

package gvisor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// execStartLimit bounds how long runsc exec may take to start the process
// in the sandbox.
const execStartLimit = time.Minute

// awaitExec waits until the foreground `runsc exec` cmd has started its
// process in the sandbox (it writes its own pid to pidFile only then) or has
// failed to (it exits first). A command that cannot be run is then an error
// of its class (commandError: NotFound, PermissionDenied), as for the init,
// rather than runsc's exit code 128 reported as the process's. The exited
// runsc is not reaped while it runs: the watch reaps it later.
func awaitExec(cmd *exec.Cmd, what, pidFile, logFile string) error {
	pid := cmd.Process.Pid
	deadline := time.Now().Add(execStartLimit)
	for {
		if data, err := os.ReadFile(pidFile); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && n == pid {
				return nil
			}
		}
		var info unix.Siginfo
		if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil); err != nil {
			return fmt.Errorf("%s: runsc exec: %w", what, err)
		}
		if info.Signo != 0 {
			werr := cmd.Wait()
			msg := runscError(logFile)
			if msg == "" {
				return fmt.Errorf("%s: runsc exec failed before starting the process: %v", what, werr)
			}
			return commandError(what, errors.New(msg))
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return fmt.Errorf("%s: runsc exec did not start the process within %v", what, execStartLimit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runscError returns the last error message in runsc's JSON log, or "".
func runscError(logFile string) string {
	data, err := os.ReadFile(logFile)
	if err != nil {
		return ""
	}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		var line struct{ Msg, Level string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && (line.Level == "error" || line.Level == "fatal") {
			last = line.Msg
		}
	}
	return last
}
