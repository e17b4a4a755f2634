package main

import (
	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
)

func newExecCommand(a *app) *cobra.Command {
	var opts core.ExecOptions
	cmd := &cobra.Command{
		Use:   "exec [flags] CONTAINER COMMAND [ARG...]",
		Short: "Run a command in a running container (exit status: the command's)",
		Args:  argsAtLeast(2, "CONTAINER and COMMAND"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			rec, err := c.Lookup(args[0])
			if err != nil {
				return err
			}
			o := opts
			o.Args = args[1:]
			d, err := c.DriverOf(rec)
			if err != nil {
				return err
			}
			p, err := c.PrepareExec(rec, o)
			if err != nil {
				return err
			}
			if o.Detached {
				return execError(lost(rec, c.StartExec(ctx, rec, p)))
			}
			defer c.RemoveExecFiles(rec, p.ExecID)
			// runAttached opens the FIFOs before the process starts, so
			// that no output is lost however fast it ends.
			st, err := runAttached(ctx, a, d, rec.ID, p.ExecID, p.Stdio, "", nil, func() error {
				return lost(rec, c.StartExec(ctx, rec, p))
			})
			if err != nil {
				return execError(err)
			}
			return exitStatus(st)
		},
	}
	fs := cmd.Flags()
	fs.SetInterspersed(false)
	fs.BoolVarP(&opts.Terminal, "tty", "t", false, "allocate a terminal")
	fs.BoolVarP(&opts.Stdin, "interactive", "i", false, "keep stdin connected")
	fs.BoolVarP(&opts.Detached, "detach", "d", false, "run the command in the background, without stdio")
	fs.StringArrayVarP(&opts.Env, "env", "e", nil, "set an environment variable (KEY=VALUE, or KEY to copy it from here)")
	fs.StringVarP(&opts.Cwd, "workdir", "w", "", "working directory inside the container")
	fs.StringVarP(&opts.User, "user", "u", "", "user as uid[:gid] (names are looked up in the image's /etc/passwd)")
	return cmd
}

// execError gives a command that exec could not start docker's exit code
// for it: 126 whether it was not found or cannot be executed (docker exec
// reports every runtime exec failure so; run tells 127 from 126).
func execError(err error) error {
	if code, _ := exitCode(err); code == exitCommandMissing {
		return codedError{code: exitCannotInvoke, err: err}
	}
	return err
}
