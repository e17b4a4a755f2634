package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core/network"
	"github.com/rtd-project/rtd/driver"
)

func newNetworkCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "network",
		Short: "Manage networks: ls, create, rm, inspect",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newNetworkLsCommand(a), newNetworkCreateCommand(a), newNetworkRmCommand(a), newNetworkInspectCommand(a))
	return cmd
}

func newNetworkLsCommand(a *app) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List networks",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			nets, err := c.Networks().List()
			if err != nil {
				return err
			}
			if quiet {
				for _, n := range nets {
					fmt.Fprintln(cmd.OutOrStdout(), n.Name)
				}
				return nil
			}
			tw := newTable(cmd.OutOrStdout(), "NAME", "DRIVER", "BRIDGE", "SUBNET", "SCOPE")
			for _, n := range append(nets, &network.Network{Name: network.Host}, &network.Network{Name: network.None}) {
				drv, scope := "bridge", "local"
				switch {
				case n.Builtin:
					scope = "host"
				case n.Name == network.Host || n.Name == network.None:
					drv, scope = n.Name, "host"
				}
				tableRow(tw, n.Name, drv, dash(n.Bridge), dash(n.Subnet), scope)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the names")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newNetworkCreateCommand(a *app) *cobra.Command {
	var opts network.CreateOptions
	cmd := &cobra.Command{
		Use:   "create [--subnet CIDR] [--bridge NAME] NETWORK",
		Short: "Create a network whose containers reach each other by name",
		Args:  argsExactly(1, "NETWORK"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireRoot("network create"); err != nil {
				return err
			}
			c, err := a.Core()
			if err != nil {
				return err
			}
			opts.Name = args[0]
			n, err := c.Networks().Create(opts)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), n.Name)
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Subnet, "subnet", "", "IPv4 subnet in CIDR form (default: a free 10.67-10.127.x.0/24)")
	cmd.Flags().StringVar(&opts.Bridge, "bridge", "", "Linux bridge device name (default: derived from the root and the name)")
	return cmd
}

func newNetworkRmCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NETWORK...",
		Aliases: []string{"remove"},
		Short:   "Remove networks no container uses",
		Args:    argsAtLeast(1, "NETWORK"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			return eachName(cmd, args, func(name string) error {
				users, err := c.NetworkUsers(name)
				if err != nil {
					return err
				}
				if len(users) > 0 {
					return driver.FailedPreconditionf("network %s is in use by %s: remove them first", name, strings.Join(users, ", "))
				}
				return c.Networks().Remove(name)
			})
		},
	}
}

func newNetworkInspectCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect NETWORK...",
		Short: "Show networks as JSON, with the containers attached",
		Args:  argsAtLeast(1, "NETWORK"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			type out struct {
				*network.Network
				Containers []string `json:"containers"`
			}
			var all []out
			for _, name := range args {
				n, err := c.Networks().Get(name)
				if err != nil {
					return err
				}
				users, err := c.NetworkUsers(name)
				if err != nil {
					return err
				}
				all = append(all, out{n, users})
			}
			return writeJSON(cmd.OutOrStdout(), all)
		},
	}
}
