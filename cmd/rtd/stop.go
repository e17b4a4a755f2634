package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
)

// stopFlags are stop's and restart's -t/--time and -s/--signal.
type stopFlags struct {
	seconds int
	signal  string
}

func (f *stopFlags) register(cmd *cobra.Command) {
	cmd.Flags().IntVarP(&f.seconds, "time", "t", -1, "seconds to wait after the stop signal before SIGKILL (default: the container's --stop-timeout, else 10)")
	cmd.Flags().StringVarP(&f.signal, "signal", "s", "", "signal to send first (default: the container's --stop-signal, else SIGTERM)")
}

// options resolves the flags and rec's recorded stop settings.
func (f *stopFlags) options(rec *core.Record) (core.StopOptions, error) {
	var o core.StopOptions
	if f.seconds < -1 {
		return o, usageError(fmt.Errorf("invalid --time %d: want seconds, 0 or more", f.seconds))
	}
	if f.seconds >= 0 {
		t := time.Duration(f.seconds) * time.Second
		o.Timeout = &t
	}
	name := f.signal
	if name == "" {
		name = rec.StopSignal
	}
	if name != "" {
		sig, err := parseSignal(name)
		if err != nil {
			return o, err
		}
		o.Signal = sig
	}
	return o, nil
}

func newStopCommand(a *app) *cobra.Command {
	var f stopFlags
	cmd := &cobra.Command{
		Use:   "stop [-t SECONDS] [-s SIGNAL] CONTAINER...",
		Short: "Stop running containers: the stop signal (SIGTERM), then SIGKILL after a timeout (10s)",
		Args:  argsAtLeast(1, "CONTAINER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(cmd, a, args, func(c *core.Core, rec *core.Record) error {
				o, err := f.options(rec)
				if err != nil {
					return err
				}
				_, err = c.Stop(cmd.Context(), rec, o)
				return lost(rec, err)
			})
		},
	}
	f.register(cmd)
	return cmd
}

func newRestartCommand(a *app) *cobra.Command {
	var f stopFlags
	cmd := &cobra.Command{
		Use:   "restart [-t SECONDS] CONTAINER...",
		Short: "Stop containers (as stop does) and start them again; their output goes to their log",
		Args:  argsAtLeast(1, "CONTAINER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireRoot("restart"); err != nil {
				return err
			}
			return eachContainer(cmd, a, args, func(c *core.Core, rec *core.Record) error {
				o, err := f.options(rec)
				if err != nil {
					return err
				}
				return lost(rec, c.Restart(cmd.Context(), rec, o))
			})
		},
	}
	f.register(cmd)
	return cmd
}
