//go:build linux

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// execOptions are exec's flags.
type execOptions struct {
	process       string
	detach        bool
	pidFile       string
	consoleSocket string
	tty           bool
	cwd           string
	env           []string
	user          string
	gids          []int64
	caps          []string
	noNewPrivs    bool
	apparmor      string
	label         string
}

func (a *app) execCommand() *cobra.Command {
	o := &execOptions{}
	cmd := &cobra.Command{
		Use: "exec [flags] ID [COMMAND [ARG...]]", Short: "run a process in a running container", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := a.onContainer(cmd, args[:1], func(ctx context.Context, s *session, rec *record, d *core.Plugin) error {
				return s.exec(ctx, rec, d, o, args[1:])
			})
			var st statusError
			if err == nil || errors.As(err, &st) {
				return err
			}
			return codedError{code: 255, err: fmt.Errorf("exec failed: %w", err)} // runc's code and words
		},
	}
	cmd.Flags().SetInterspersed(false)
	f := cmd.Flags()
	f.StringVarP(&o.process, "process", "p", "", "path to a process.json (an OCI process)")
	f.BoolVarP(&o.detach, "detach", "d", false, "detach from the process")
	f.StringVar(&o.pidFile, "pid-file", "", "file to write the process id to")
	f.StringVar(&o.consoleSocket, "console-socket", "", "unix socket that receives the terminal's master")
	f.BoolVarP(&o.tty, "tty", "t", false, "allocate a terminal")
	f.StringVar(&o.cwd, "cwd", "", "working directory in the container")
	f.StringArrayVarP(&o.env, "env", "e", nil, "set an environment variable")
	f.StringVarP(&o.user, "user", "u", "", "UID[:GID]")
	f.Int64SliceVarP(&o.gids, "additional-gids", "g", nil, "additional gids")
	f.StringArrayVarP(&o.caps, "cap", "c", nil, "add a capability")
	f.BoolVar(&o.noNewPrivs, "no-new-privs", false, "set no_new_privs")
	f.StringVar(&o.apparmor, "apparmor", "", "AppArmor profile")
	f.StringVar(&o.label, "process-label", "", "SELinux label")
	var n int
	var b bool
	var cg string
	f.IntVar(&n, "preserve-fds", 0, "accepted, ignored")
	f.BoolVar(&b, "ignore-paused", false, "accepted, ignored")
	f.StringVar(&cg, "cgroup", "", "accepted, ignored")
	return cmd
}

// exec starts a process in rec through its stand-in; without --detach it
// waits and ends with the process's status.
func (s *session) exec(ctx context.Context, rec *record, d *core.Plugin, o *execOptions, args []string) (retErr error) {
	p, err := o.processSpec(rec, args)
	if err != nil {
		return err
	}
	if p.Terminal && o.consoleSocket == "" {
		return driver.InvalidArgumentf("cannot allocate tty without --console-socket: rtd-runc does not relay a terminal itself")
	}
	var tty *os.File
	if p.Terminal {
		if tty, err = newConsole(o.consoleSocket); err != nil {
			return err
		}
		defer tty.Close()
	}
	execID := "exec-" + randomHex()
	st, err := startStandin(s.store.Root, d.Path, rec.ID, execID, tty)
	if err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			st.abort()
		}
	}()
	stdio, err := stdioOf(st, p.Terminal)
	if err != nil {
		return err
	}
	resp, err := d.Exec(ctx, &driver.ExecRequest{ID: rec.ID, ExecID: execID, Process: p, Stdio: stdio})
	if err != nil {
		return err
	}
	if err := writePidFile(o.pidFile, st.pid()); err != nil {
		return err
	}
	if err := st.commit(resp.Pid); err != nil {
		return err
	}
	if o.detach {
		return nil
	}
	return statusError{code: forwardUntilExit(ctx, d, st, rec.ID, execID)}
}

// processSpec is --process, or the container's process with the command
// line's arguments and flags, as runc builds it.
func (o *execOptions) processSpec(rec *record, args []string) (*specs.Process, error) {
	if o.process != "" {
		data, err := os.ReadFile(o.process)
		if err != nil {
			return nil, driver.InvalidArgumentf("exec: read the process file: %v", err)
		}
		var p specs.Process
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, driver.InvalidArgumentf("exec: parse %s: %v", o.process, err)
		}
		return &p, nil
	}
	if len(args) == 0 {
		return nil, driver.InvalidArgumentf("exec: no command given: pass ARGS or --process")
	}
	spec, err := ocispec.Load(rec.Bundle)
	if err != nil {
		return nil, err
	}
	p := spec.Process
	if p == nil {
		p = &specs.Process{Cwd: "/"}
	}
	p.Args, p.Terminal = args, o.tty
	p.Env = append(p.Env, o.env...)
	if o.cwd != "" {
		p.Cwd = o.cwd
	}
	if o.user != "" {
		uid, gid, _ := strings.Cut(o.user, ":")
		u, err := strconv.ParseUint(uid, 10, 32)
		if err != nil {
			return nil, driver.InvalidArgumentf("exec: --user %q: want UID[:GID]", o.user)
		}
		p.User = specs.User{UID: uint32(u)}
		if gid != "" {
			g, err := strconv.ParseUint(gid, 10, 32)
			if err != nil {
				return nil, driver.InvalidArgumentf("exec: --user %q: want UID[:GID]", o.user)
			}
			p.User.GID = uint32(g)
		}
	}
	for _, g := range o.gids {
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	if len(o.caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		for _, c := range o.caps {
			c = strings.ToUpper(c)
			if !strings.HasPrefix(c, "CAP_") {
				c = "CAP_" + c
			}
			p.Capabilities.Bounding = append(p.Capabilities.Bounding, c)
			p.Capabilities.Effective = append(p.Capabilities.Effective, c)
			p.Capabilities.Permitted = append(p.Capabilities.Permitted, c)
		}
	}
	if o.noNewPrivs {
		p.NoNewPrivileges = true
	}
	if o.apparmor != "" {
		p.ApparmorProfile = o.apparmor
	}
	if o.label != "" {
		p.SelinuxLabel = o.label
	}
	return p, nil
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
