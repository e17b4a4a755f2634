package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

func newRunCommand(a *app) *cobra.Command {
	var f containerFlags
	var detach bool
	cmd := &cobra.Command{
		Use:   "run [flags] IMAGE [COMMAND [ARG...]]",
		Short: "Create and start a container, attached (exit status: the container's) or detached (-d)",
		Long: `Create and start a container from IMAGE: "hello" (the embedded default image),
an image of the image store by name or digest (rtd pull, rtd load), an OCI image
layout directory, an OCI bundle directory (holds config.json) or a root filesystem
directory. Images and root filesystem directories get a copy-on-write root of their
own: the container's writes never reach them.`,
		Args: argsAtLeast(1, "IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireRoot("run"); err != nil {
				return err
			}
			if err := checkInputTTY(f.tty && f.interactive && !detach); err != nil {
				return err
			}
			opts, err := f.createOptions(args)
			if err != nil {
				return err
			}
			opts.Detached = detach
			opts.Stdin = f.interactive && !detach
			c, err := a.Core()
			if err != nil {
				return err
			}
			if opts.Policy, err = a.Policy(); err != nil {
				return err
			}
			return run(cmd.Context(), a, c, opts, cmd)
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, "run in the background: output goes to the container's log, the id is printed")
	return cmd
}

// run creates and starts a container; attached, it returns the container's
// exit status as a statusError.
func run(ctx context.Context, a *app, c *core.Core, opts core.CreateOptions, cmd *cobra.Command) (retErr error) {
	ctr, err := c.Create(ctx, opts)
	if err != nil {
		return err
	}
	rec := ctr.Record
	// Until the container ran, a failure removes it again.
	started := false
	defer func() {
		if retErr != nil && !started {
			if err := c.Remove(context.WithoutCancel(ctx), rec, true); err != nil {
				c.Logger().Warn("cleanup after a failed start", "id", rec.ID, "error", err)
			}
		}
	}()
	if opts.Detached {
		if err := ctr.Driver.Start(ctx, rec.ID); err != nil {
			return err
		}
		started = true
		fmt.Fprintln(cmd.OutOrStdout(), rec.ID)
		return nil
	}
	// With rtd's output closed (| head), the rest goes to the container's
	// log, where rtd logs finds it.
	logPath := filepath.Join(ctr.Dir, core.LogFile)
	onSpill := func() {
		rec.LogPath = logPath
		if err := c.WriteRecord(rec); err != nil {
			c.Logger().Warn("record the log of a container whose output was cut", "id", rec.ID, "error", err)
		}
	}
	st, err := runAttached(ctx, a, ctr.Driver, rec.ID, "", ctr.Stdio, logPath, onSpill, func() error {
		if err := ctr.Driver.Start(ctx, rec.ID); err != nil {
			return err
		}
		started = true
		return nil
	})
	if err != nil {
		return err
	}
	if opts.AutoRemove {
		if err := c.Remove(ctx, rec, true); err != nil {
			return err
		}
	}
	return exitStatus(st)
}

// exitStatus turns a process's exit status into rtd's exit code.
func exitStatus(st *driver.ExitStatus) error {
	if st.Code == 0 {
		return nil
	}
	return statusError{code: int(st.Code)}
}
