package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/driver"
)

func newWaitCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "wait CONTAINER...",
		Short: "Wait for containers to exit; print each exit code and exit with the last one",
		Args:  argsAtLeast(1, "CONTAINER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var st *driver.ExitStatus
			for _, ref := range args {
				rec, d, err := a.containerDriver(ref)
				if err != nil {
					return err
				}
				st, err = d.Wait(ctx, &driver.WaitRequest{ID: rec.ID})
				if err != nil {
					return lost(rec, err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), st.Code)
				if rec.AutoRemove {
					if err := c.Remove(ctx, rec, false); err != nil {
						return err
					}
				}
			}
			return exitStatus(st)
		},
	}
}
