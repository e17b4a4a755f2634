package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/containerd/errdefs"
	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// newPodCommand is rtd pod create|ls|inspect|rm (podman-like): a pod is a
// sandbox on a driver that has them; rtd run --pod NAME puts containers in
// it.
func newPodCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pod",
		Short: "Manage pods: containers sharing a sandbox (network, IPC, hostname; one VM or gVisor sandbox on those drivers)",
		Args:  unknownCommand,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	cmd.AddCommand(newPodCreateCommand(a), newPodLsCommand(a), newPodInspectCommand(a), newPodRmCommand(a))
	return cmd
}

func newPodCreateCommand(a *app) *cobra.Command {
	var opts core.PodOptions
	cmd := &cobra.Command{
		Use:   "create [flags]",
		Short: "Create and start a pod; print its name",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireRoot("pod create"); err != nil {
				return err
			}
			c, err := a.Core()
			if err != nil {
				return err
			}
			if opts.Policy, err = a.Policy(); err != nil {
				return err
			}
			p, err := c.CreatePod(cmd.Context(), opts)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), p.Name)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Name, "name", "", "pod name (default: 12 random hex characters)")
	fs.StringVar(&opts.Driver, "driver", "", "driver name or path; it must have the sandboxes capability (rtd drivers)")
	fs.StringVar(&opts.Hostname, "hostname", "", "the pod's hostname (default: its name)")
	fs.StringVar(&opts.Network, "network", "", "network: bridge (the default where the driver can join one), none, or a network of `rtd network create`")
	return cmd
}

// podView is a pod as ls and inspect show it.
type podView struct {
	*core.Pod
	Status     string   `json:"status"`
	Pid        uint32   `json:"pid,omitempty"`
	Containers []string `json:"containers"`
	Error      string   `json:"error,omitempty"`
}

func podViewOf(cmd *cobra.Command, c *core.Core, p *core.Pod) podView {
	v := podView{Pod: p, Status: string(driver.StatusUnknown), Containers: []string{}}
	recs, _ := c.PodContainers(p.Name)
	for _, r := range recs {
		v.Containers = append(v.Containers, r.ID)
	}
	sb, err := c.PodSandbox(cmd.Context(), p)
	if err != nil {
		v.Error = err.Error()
		return v
	}
	v.Status, v.Pid = string(sb.Status), sb.Pid
	return v
}

func newPodLsCommand(a *app) *cobra.Command {
	var quiet bool
	var format string
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"ps", "list"},
		Short:   "List pods",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			pods, err := c.Pods()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if quiet {
				for _, p := range pods {
					fmt.Fprintln(out, p.Name)
				}
				return nil
			}
			views := make([]podView, 0, len(pods))
			for _, p := range pods {
				views = append(views, podViewOf(cmd, c, p))
			}
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(views)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
			fmt.Fprintln(tw, "NAME\tDRIVER\tSTATUS\tCONTAINERS\tNETWORK\tIP\tCREATED")
			for _, v := range views {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", v.Name, v.Driver, v.Status, len(v.Containers),
					v.Network, v.IP, v.Created.Local().Format(time.DateTime))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the names")
	cmd.Flags().StringVar(&format, "format", "", "json for JSON")
	return cmd
}

func newPodInspectCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect POD...",
		Short: "Show pods as JSON: record, sandbox status and containers",
		Args:  argsAtLeast(1, "POD"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			views := make([]podView, 0, len(args))
			for _, name := range args {
				p, err := c.LoadPod(name)
				if err != nil {
					return err
				}
				views = append(views, podViewOf(cmd, c, p))
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(views)
		},
	}
}

func newPodRmCommand(a *app) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rm [-f] POD...",
		Short: "Remove pods and their stopped containers (-f: also running ones)",
		Args:  argsAtLeast(1, "POD"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireRoot("pod rm"); err != nil {
				return err
			}
			c, err := a.Core()
			if err != nil {
				return err
			}
			var last error
			for _, name := range args {
				err := c.RemovePod(cmd.Context(), name, force)
				if force && errdefs.IsNotFound(err) && strings.Contains(err.Error(), "no such pod") {
					continue
				}
				if err != nil {
					if last != nil {
						fmt.Fprintln(os.Stderr, "rtd: "+message(last))
					}
					last = err
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), name)
			}
			return last
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove running containers of the pod too")
	return cmd
}
