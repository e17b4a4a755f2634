package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCreateCommand(a *app) *cobra.Command {
	var f containerFlags
	cmd := &cobra.Command{
		Use:   "create [flags] IMAGE [COMMAND [ARG...]]",
		Short: "Create a container without starting it (its output goes to its log); print its id",
		Args:  argsAtLeast(1, "IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireRoot("create"); err != nil {
				return err
			}
			opts, err := f.createOptions(args)
			if err != nil {
				return err
			}
			// Nobody is attached between create and start: output goes to
			// the log, which start -a and logs -f follow.
			opts.Detached = true
			c, err := a.Core()
			if err != nil {
				return err
			}
			if opts.Policy, err = a.Policy(); err != nil {
				return err
			}
			ctr, err := c.Create(cmd.Context(), opts)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), ctr.Record.ID)
			return nil
		},
	}
	f.register(cmd.Flags())
	// Accepted as docker's create -i and -it: no stdin is attached to a
	// created container (start -a follows its output only).
	return cmd
}
