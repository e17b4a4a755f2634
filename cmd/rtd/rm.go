package main

import (
	"fmt"
	"os"

	"github.com/containerd/errdefs"
	"github.com/spf13/cobra"
)

func newRmCommand(a *app) *cobra.Command {
	var force, volumes bool
	cmd := &cobra.Command{
		Use:   "rm [-f] [-v] CONTAINER...",
		Short: "Remove stopped containers (-f: kill running ones first)",
		Args:  argsAtLeast(1, "CONTAINER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			var last error
			for _, ref := range args {
				rec, err := c.Lookup(ref)
				if force && errdefs.IsNotFound(err) {
					continue // docker: rm -f of a container that is not there is done
				}
				switch {
				case err == nil && volumes:
					err = c.RemoveWithVolumes(cmd.Context(), rec, force)
				case err == nil:
					err = c.Remove(cmd.Context(), rec, force)
				}
				if err != nil {
					// Report each failure on its line; the last one ends rtd.
					if last != nil {
						fmt.Fprintln(os.Stderr, "rtd: "+message(last))
					}
					last = err
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), rec.ID)
			}
			return last
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "kill a running container before removing it")
	cmd.Flags().BoolVarP(&volumes, "volumes", "v", false, "also remove the container's anonymous volumes (named volumes stay)")
	return cmd
}
