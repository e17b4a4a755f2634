package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/spf13/cobra"
)

func newVolumeCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "volume COMMAND",
		Short: "Manage named volumes (kept under the root: <root>/volumes/NAME/_data)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageError(fmt.Errorf("rtd volume needs a command: create, ls, rm or inspect"))
		},
	}
	cmd.AddCommand(newVolumeCreateCommand(a), newVolumeLsCommand(a), newVolumeRmCommand(a), newVolumeInspectCommand(a))
	return cmd
}

func newVolumeCreateCommand(a *app) *cobra.Command {
	var labels []string
	cmd := &cobra.Command{
		Use:   "create [NAME]",
		Short: "Create a volume (a random name without NAME); an existing one is kept as it is",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireRoot("volume create"); err != nil {
				return err
			}
			c, err := a.Core()
			if err != nil {
				return err
			}
			var lm map[string]string
			for _, l := range labels {
				k, v, _ := strings.Cut(l, "=")
				if k == "" {
					return usageError(fmt.Errorf("invalid --label %q: want KEY=VALUE", l))
				}
				if lm == nil {
					lm = map[string]string{}
				}
				lm[k] = v
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			v, _, err := c.CreateVolume(name, lm)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), v.Name)
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&labels, "label", "l", nil, "set a label (KEY=VALUE)")
	return cmd
}

func newVolumeLsCommand(a *app) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:     "ls [-q]",
		Aliases: []string{"list"},
		Short:   "List volumes: NAME, the containers using them, MOUNTPOINT",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			vols, err := c.Volumes()
			if err != nil {
				return err
			}
			if quiet {
				for _, v := range vols {
					fmt.Fprintln(cmd.OutOrStdout(), v.Name)
				}
				return nil
			}
			tw := newTable(cmd.OutOrStdout(), "NAME", "USED BY", "MOUNTPOINT")
			for _, v := range vols {
				tableRow(tw, v.Name, dash(strings.Join(v.UsedBy, ",")), v.Mountpoint)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print the names only")
	return cmd
}

func newVolumeRmCommand(a *app) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm [-f] VOLUME...",
		Aliases: []string{"remove"},
		Short:   "Remove volumes and their data; a volume a container uses is refused",
		Args:    argsAtLeast(1, "VOLUME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			return eachName(cmd, args, func(name string) error {
				err := c.RemoveVolume(name)
				if force && errdefs.IsNotFound(err) {
					return nil
				}
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not fail on a volume that does not exist")
	return cmd
}

func newVolumeInspectCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect VOLUME...",
		Short: "Print volumes as JSON (name, mountpoint, created, anonymous, labels, usedBy)",
		Args:  argsAtLeast(1, "VOLUME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			var out []any
			var errs []error
			for _, name := range args {
				v, err := c.InspectVolume(name)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				out = append(out, v)
			}
			if len(out) > 0 {
				if err := writeJSON(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			}
			return errors.Join(errs...)
		},
	}
}
