package main

import (
	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
)

func newPauseCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "pause CONTAINER...",
		Short: "Freeze every process of running containers (drivers with the pause capability)",
		Args:  argsAtLeast(1, "CONTAINER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachDriver(cmd, a, args, func(rec *core.Record, d *core.Plugin) error {
				return lost(rec, d.Pause(cmd.Context(), rec.ID))
			})
		},
	}
}

func newUnpauseCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "unpause CONTAINER...",
		Short: "Thaw paused containers",
		Args:  argsAtLeast(1, "CONTAINER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachDriver(cmd, a, args, func(rec *core.Record, d *core.Plugin) error {
				return lost(rec, d.Resume(cmd.Context(), rec.ID))
			})
		},
	}
}
