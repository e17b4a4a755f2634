package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/driver"
)

func newLogsCommand(a *app) *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs [-f] CONTAINER",
		Short: "Print the output of a detached container",
		Args:  argsExactly(1, "CONTAINER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			rec, err := c.Lookup(args[0])
			if err != nil {
				return err
			}
			if rec.LogPath == "" {
				return driver.FailedPreconditionf("logs %s: the container ran attached, its output was not kept (logs are kept for run -d and create)", rec.ID)
			}
			if follow {
				d, err := c.DriverOf(rec)
				if err != nil {
					return err
				}
				_, err = followLog(cmd.Context(), d, rec.ID, rec.LogPath, cmd.OutOrStdout())
				return lost(rec, err)
			}
			f, err := os.Open(rec.LogPath)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(cmd.OutOrStdout(), f)
			return err
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing output until the container exits")
	return cmd
}
