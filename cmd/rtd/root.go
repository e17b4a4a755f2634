package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// logLevelEnv names the environment variable for the default --log-level.
const logLevelEnv = "RTD_LOG_LEVEL"

// app holds the global flags, the core built from them and the handling of
// SIGINT and SIGTERM: forwarded to the container while one is attached,
// else they cancel the command's context.
type app struct {
	root       string
	logLevel   string
	policyPath string
	core       *core.Core
	policy     *core.Policy

	forward     atomic.Pointer[func(os.Signal)]
	interrupted atomic.Int32 // the signal that cancelled the command
}

// forwardSignals sends SIGINT and SIGTERM to fn until the returned stop is
// called.
func (a *app) forwardSignals(fn func(os.Signal)) (stop func()) {
	a.forward.Store(&fn)
	return func() { a.forward.Store(nil) }
}

// handleSignals routes SIGINT and SIGTERM until the returned stop is
// called, and keeps catching them after that: execute calls stop only after
// its cleanup (closing the drivers, removing their socket directories), and
// a second ^C or a second SIGTERM never kills rtd half-way. SIGPIPE is caught too
// (not ignored: an ignored signal would be inherited by the drivers and
// the containers): a closed stdout or stderr makes writes fail with EPIPE
// instead of killing rtd, and attached output goes on to the container's
// log.
func (a *app) handleSignals(cancel context.CancelFunc) (stop func()) {
	// Caught for the whole life of the process, never read.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	sigc := make(chan os.Signal, 8)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-sigc:
				if fn := a.forward.Load(); fn != nil {
					(*fn)(sig)
					continue
				}
				if s, ok := sig.(syscall.Signal); ok {
					a.interrupted.CompareAndSwap(0, int32(s))
				}
				cancel()
			case <-done:
				return
			}
		}
	}()
	// The channel stays registered until the process exits: a signal that
	// comes after the cleanup is dropped, not fatal, and rtd exits with the
	// code it was about to give.
	return func() { close(done) }
}

// Core returns the core for the global flags, built on first use.
func (a *app) Core() (*core.Core, error) {
	if a.core != nil {
		return a.core, nil
	}
	level := hclog.LevelFromString(a.logLevel)
	if level == hclog.NoLevel {
		return nil, usageError(fmt.Errorf("invalid --log-level %q: want trace, debug, info, warn, error or off", a.logLevel))
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "rtd", Level: level, Output: os.Stderr})
	idle, err := warmIdle()
	if err != nil {
		return nil, err
	}
	c := core.New(core.Options{Root: a.root, Logger: logger, WarmIdle: idle})
	// Before anything is read from the root or run from it.
	if err := c.CheckRoot(); err != nil {
		return nil, err
	}
	a.core = c
	return a.core, nil
}

// Policy loads the policy file (--policy; the default path may be absent).
func (a *app) Policy() (*core.Policy, error) {
	if a.policy != nil {
		return a.policy, nil
	}
	c, err := a.Core()
	if err != nil {
		return nil, err
	}
	var known []string
	for _, d := range c.ListDrivers() {
		known = append(known, d.Name)
	}
	explicit := a.policyPath != core.DefaultPolicyPath
	p, err := core.LoadPolicy(a.policyPath, explicit, known)
	if err != nil {
		return nil, err
	}
	a.policy = p
	return p, nil
}

// warmIdleEnv names the environment variable with the idle timeout of
// warm drivers (docs/cli.md); 0 launches a driver per command.
const warmIdleEnv = "RTD_DRIVER_IDLE"

// warmIdle is how long a driver process stays warm for later commands.
func warmIdle() (time.Duration, error) {
	v := os.Getenv(warmIdleEnv)
	if v == "" {
		return driver.DefaultWarmIdle, nil
	}
	if v == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, usageError(fmt.Errorf("invalid $%s %q: want a duration such as 5s, or 0 to launch a driver per command", warmIdleEnv, v))
	}
	return d, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func newRootCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:           "rtd",
		Short:         "Run containers through interchangeable runtime drivers",
		SilenceUsage:  true,
		SilenceErrors: true,
		// No "completion" command: keep the command list about containers.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	cmd.PersistentFlags().StringVar(&a.root, "root", envOr(core.RootEnv, core.DefaultRoot), "directory for records, driver state and sockets (env "+core.RootEnv+")")
	cmd.PersistentFlags().StringVar(&a.policyPath, "policy", envOr(core.PolicyEnv, core.DefaultPolicyPath), "policy file: default driver per OS, allowed drivers, minimum isolation per label (env "+core.PolicyEnv+")")
	cmd.PersistentFlags().StringVar(&a.logLevel, "log-level", envOr(logLevelEnv, "warn"), "log level: trace, debug, info, warn, error, off (env "+logLevelEnv+")")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return hintError{code: exitRtdError, err: err, hint: helpHint(c.CommandPath())}
	})
	cmd.Args = unknownCommand
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	cmd.AddCommand(
		newRunCommand(a),
		newCreateCommand(a),
		newStartCommand(a),
		newExecCommand(a),
		newPsCommand(a),
		newInspectCommand(a),
		newLogsCommand(a),
		newKillCommand(a),
		newRmCommand(a),
		newWaitCommand(a),
		newDriversCommand(a),
		newPullCommand(a),
		newLoadCommand(a),
		newImagesCommand(a, "images"),
		newRmiCommand(a, "rmi"),
		newImageCommand(a),
		newConformanceCommand(a),
		newNetworkCommand(a),
		newVolumeCommand(a),
	)
	addDockerCommands(cmd, a)
	return cmd
}

// execute runs the CLI and returns the process exit code: the container's
// for run, start -a, exec and wait; 125 for rtd's own failures, after
// exactly one line "rtd: <message>" on stderr.
func execute(args []string) int {
	a := &app{}
	cmd := newRootCommand(a)
	cmd.SetArgs(args)
	ctx, cancel := context.WithCancel(context.Background())
	stopSignals := a.handleSignals(cancel)
	ran, err := cmd.ExecuteContextC(ctx)
	cancel()
	if a.core != nil {
		a.core.Close()
	}
	stopSignals()
	if sig := a.interrupted.Load(); sig != 0 && err != nil {
		// Interrupted: exit like a shell does, without an error message.
		return 128 + int(sig)
	}
	code, msg := exitCode(err)
	if msg != "" {
		fmt.Fprintln(os.Stderr, "rtd: "+msg)
	}
	var he hintError
	if errors.As(err, &he) && he.hint != "" {
		fmt.Fprintln(os.Stderr, he.hint)
	}
	if ran != nil && err != nil {
		code = dockerCode(ran.CommandPath(), err, code)
	}
	return code
}

// argsAtLeast is cobra.MinimumNArgs with docker's message and exit code
// (1) and a hint naming the command's help.
func argsAtLeast(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return argsError(cmd, fmt.Sprintf("requires at least %s", plural(n, "argument")), what)
		}
		return nil
	}
}

// argsExactly is cobra.ExactArgs, as argsAtLeast.
func argsExactly(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == n:
			return nil
		case n == 0:
			return hintError{code: exitFailure, hint: helpHint(cmd.CommandPath()), err: fmt.Errorf("%q accepts no arguments", cmd.CommandPath())}
		}
		return argsError(cmd, fmt.Sprintf("requires exactly %s", plural(n, "argument")), what)
	}
}

func argsError(cmd *cobra.Command, rule, what string) error {
	return hintError{code: exitFailure, hint: helpHint(cmd.CommandPath()),
		err: fmt.Errorf("%q %s (%s; usage: %s)", cmd.CommandPath(), rule, what, strings.TrimSpace(cmd.UseLine()))}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// unknownCommand is the root's Args: a word that names no command is
// docker's "is not a docker command" (exit 1).
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return hintError{code: exitFailure, hint: "See '" + cmd.CommandPath() + " --help'",
		err: fmt.Errorf("'%s' is not a rtd command.", args[0])}
}
