package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/driver"
)

func newStartCommand(a *app) *cobra.Command {
	var attachLog bool
	cmd := &cobra.Command{
		Use:   "start [-a] CONTAINER...",
		Short: "Start created containers; with -a, follow the output of one and exit with its status",
		Args:  argsAtLeast(1, "CONTAINER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if attachLog && len(args) != 1 {
				return usageError(fmt.Errorf("start: -a takes exactly one container"))
			}
			c, err := a.Core()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			for _, ref := range args {
				rec, d, err := a.containerDriver(ref)
				if err != nil {
					return err
				}
				if err := d.Start(ctx, rec.ID); err != nil {
					return lost(rec, err)
				}
				if !attachLog {
					fmt.Fprintln(cmd.OutOrStdout(), rec.ID)
					continue
				}
				if rec.LogPath == "" {
					return driver.FailedPreconditionf("start %s: the container has no log to attach to (it was created attached)", rec.ID)
				}
				st, err := showLog(ctx, d, rec.ID, rec.LogPath, logView{stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr(), tail: -1})
				if err != nil {
					return lost(rec, err)
				}
				if rec.AutoRemove {
					if err := c.Remove(ctx, rec, true); err != nil {
						return err
					}
				}
				return exitStatus(st)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&attachLog, "attach", "a", false, "follow the container's output and exit with its status")
	return cmd
}
