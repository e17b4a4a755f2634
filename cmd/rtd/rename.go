package main

import "github.com/spf13/cobra"

func newRenameCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rename CONTAINER NEW_NAME",
		Short: "Give a container a new name (its id stays)",
		Args:  argsExactly(2, "CONTAINER and NEW_NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, rec, err := a.lookup(args[0])
			if err != nil {
				return err
			}
			return c.Rename(rec, args[1])
		},
	}
}
