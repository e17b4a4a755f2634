package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/conformance/probe"
	"github.com/rtd-project/rtd/driver"
)

// execProbe starts the probe inside c as exec id execID and returns its stdout capture.
func (s *Session) execProbe(ctx context.Context, c *Container, execID string, terminal bool, args ...string) (*capture, error) {
	dir := filepath.Join(c.ioDir, fmt.Sprintf("exec-%s-%d", execID, time.Now().UnixNano()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	out, err := newCapture(filepath.Join(dir, "stdout"))
	if err != nil {
		return nil, err
	}
	p := s.spec(nil).Process
	p.Args = append([]string{"/probe"}, args...)
	p.Terminal = terminal
	_, err = s.client.Exec(ctx, &driver.ExecRequest{ID: c.ID, ExecID: execID, Process: p, Stdio: driver.Stdio{Stdout: out.path, Terminal: terminal}})
	if err != nil {
		out.release()
		return nil, err
	}
	return out, nil
}

func (s *Session) waitExec(ctx context.Context, c *Container, execID string) (*driver.ExitStatus, error) {
	return s.client.Wait(ctx, &driver.WaitRequest{ID: c.ID, ExecID: execID})
}

func execCases() []Case {
	return []Case{
		{ID: "EXEC-001", Level: Must, Capability: CapExec, Clause: "An exec'd process runs inside the container's namespaces and its exit code is reported", Run: func(ctx context.Context, s *Session) error {
			c, err := s.runReady(ctx, "x1", opts{probe: []string{"ready-sleep", "60"}})
			if err != nil {
				return err
			}
			rep, err := s.execProbe(ctx, c, "report", false, "report")
			if err != nil {
				return err
			}
			st, err := s.waitExec(ctx, c, "report")
			if err != nil {
				return err
			}
			out, err := rep.wait(ctx)
			if err != nil {
				return err
			}
			var r probe.Report
			if err := json.Unmarshal(out, &r); err != nil || st.Code != 0 {
				return fmt.Errorf("exec report: exit %d, %v: %q", st.Code, err, truncate(string(out), 200))
			}
			if r.Pid == 1 {
				return fmt.Errorf("exec'd process is pid 1 of its namespace: it did not join the container")
			}
			initNS, err := s.execProbe(ctx, c, "init-ns", false, "read", "/proc/1/cmdline")
			if err != nil {
				return err
			}
			if _, err := s.waitExec(ctx, c, "init-ns"); err != nil {
				return err
			}
			cmdline, _ := initNS.wait(ctx)
			if !strings.Contains(string(cmdline), "ready-sleep") {
				return fmt.Errorf("exec does not see the container's init as pid 1 (/proc/1/cmdline %q)", cmdline)
			}
			if _, err := s.execProbe(ctx, c, "code", false, "exit", "9"); err != nil {
				return err
			}
			st, err = s.waitExec(ctx, c, "code")
			if err != nil {
				return err
			}
			if st.Code != 9 {
				return fmt.Errorf("exec exit code %d, want 9", st.Code)
			}
			return wantStatus(ctx, c, "running")
		}},
		{ID: "EXEC-002", Level: Must, Capability: CapExec, Clause: "Exec with a duplicate exec id returns AlreadyExists; exec in a stopped container returns FailedPrecondition", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "x2", opts{probe: []string{"ready-sleep", "60"}})
			if err != nil {
				return err
			}
			if _, err := s.execProbe(ctx, c, "dup", false, "sleep", "60"); err != nil {
				return err
			}
			_, err = s.execProbe(ctx, c, "dup", false, "sleep", "60")
			if err := wantClass(err, "AlreadyExists", "exec with a duplicate id"); err != nil {
				return err
			}
			if err := c.kill(ctx, syscall.SIGKILL, true); err != nil {
				return err
			}
			if _, err := c.wait(ctx); err != nil {
				return err
			}
			_, err = s.execProbe(ctx, c, "late", false, "exit", "0")
			return wantClass(err, "FailedPrecondition", "exec in a stopped container")
		}},
		{ID: "EXEC-003", Level: Must, Capability: CapTerminal, Clause: "Exec with a terminal gives the process a tty", Run: func(ctx context.Context, s *Session) error {
			if !s.info.Capabilities.Exec {
				return skipf("exec not claimed")
			}
			c, err := s.run(ctx, "x3", opts{probe: []string{"ready-sleep", "60"}})
			if err != nil {
				return err
			}
			out, err := s.execProbe(ctx, c, "tty", true, "report")
			if err != nil {
				return err
			}
			if _, err := s.waitExec(ctx, c, "tty"); err != nil {
				return err
			}
			data, err := out.wait(ctx)
			if err != nil {
				return err
			}
			if !strings.Contains(string(data), `"StdinTTY":true,"StdoutTTY":true`) {
				return fmt.Errorf("exec with terminal has no tty: %q", truncate(string(data), 200))
			}
			return nil
		}},
		{ID: "EXEC-004", Level: Must, Capability: CapExec, Clause: "Kill with an exec id signals only that process", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "x4", opts{probe: []string{"ready-sleep", "60"}})
			if err != nil {
				return err
			}
			out, err := s.execProbe(ctx, c, "victim", false, "ready-sleep", "60")
			if err != nil {
				return err
			}
			if err := out.waitFor(ctx, "ready"); err != nil {
				return err
			}
			if err := s.client.Kill(ctx, &driver.KillRequest{ID: c.ID, ExecID: "victim", Signal: 9}); err != nil {
				return err
			}
			st, err := s.waitExec(ctx, c, "victim")
			if err != nil {
				return err
			}
			if st.Code != 137 {
				return fmt.Errorf("exec exit %d, want 137", st.Code)
			}
			return wantStatus(ctx, c, "running")
		}},
		{ID: "EXEC-005", Level: Must, Capability: CapExec, Clause: "An exec'd command that is missing fails Exec with NotFound (rtd exits 127), one that is a directory or lacks execute permission with PermissionDenied (126), as for the init (EXIT-003/007/008), or the process exits 127/126",
			NotFor: []driver.IsolationClass{driver.IsolationWasm, driver.IsolationUnikernel}, Run: func(ctx context.Context, s *Session) error {
				c, err := s.runReady(ctx, "x5", opts{probe: []string{"ready-sleep", "60"}})
				if err != nil {
					return err
				}
				for i, k := range []struct {
					cmd   string
					is    func(error) bool
					class string
					code  uint32
				}{
					{"/no/such/binary", errdefs.IsNotFound, "NotFound", 127},
					{"/etc", errdefs.IsPermissionDenied, "PermissionDenied", 126},
					{"/" + noExecFile, errdefs.IsPermissionDenied, "PermissionDenied", 126},
				} {
					if err := execCommand(ctx, s, c, fmt.Sprintf("cls%d", i), k.cmd, k.is, k.class, k.code); err != nil {
						return err
					}
				}
				return wantStatus(ctx, c, "running")
			}},
	}
}

// execCommand execs cmd in c and expects the class it names from Exec or,
// when Exec succeeds, exit code.
func execCommand(ctx context.Context, s *Session, c *Container, execID, cmd string, is func(error) bool, class string, code uint32) error {
	p := s.spec(nil).Process
	p.Args = []string{cmd}
	_, err := s.client.Exec(ctx, &driver.ExecRequest{ID: c.ID, ExecID: execID, Process: p})
	if err == nil {
		st, werr := s.waitExec(ctx, c, execID)
		if werr != nil {
			return werr
		}
		if st.Code != code {
			return fmt.Errorf("exec of %s exited %d, want %d (or %s from Exec)", cmd, st.Code, code, class)
		}
		return nil
	}
	if !is(err) {
		return fmt.Errorf("exec of %s: %v, want %s", cmd, err, class)
	}
	return nil
}
