package main

import (
	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/driver"
)

func newAttachCommand(a *app) *cobra.Command {
	var noStdin bool
	cmd := &cobra.Command{
		Use:   "attach [--no-stdin] CONTAINER",
		Short: "Show a detached container's output from now on and exit with its status (output only: a detached container has no stdin to attach to)",
		Args:  argsExactly(1, "CONTAINER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rec, d, err := a.containerDriver(args[0])
			if err != nil {
				return err
			}
			st, err := d.State(cmd.Context(), rec.ID)
			if err != nil {
				return lost(rec, err)
			}
			if st.Status != driver.StatusRunning && st.Status != driver.StatusPaused {
				return driver.FailedPreconditionf("you cannot attach to a stopped container, start it first")
			}
			if rec.LogPath == "" {
				return driver.FailedPreconditionf("attach %s: the container runs attached to another rtd; its output goes there", rec.ID)
			}
			exit, err := showLog(cmd.Context(), d, rec.ID, rec.LogPath, logView{stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr(), tail: -1, fromEnd: true})
			if err != nil {
				return lost(rec, err)
			}
			return exitStatus(exit)
		},
	}
	cmd.Flags().BoolVar(&noStdin, "no-stdin", true, "do not attach stdin (always so: rtd attaches output only)")
	return cmd
}
