package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/driver"
)

// writeDriverTable prints the comparison a security reviewer reads at a
// glance: one row per driver, the isolation facts in short form.
func writeDriverTable(w io.Writer, reports []driverReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tISOLATION\tKERNEL\tSYSCALL FILTER\tUSERNS\tROOTLESS\tACCOUNTING\tCAPABILITIES\tHEALTH")
	for _, r := range reports {
		health := "ready"
		if !r.Health.Ready {
			health = "not ready: " + r.Health.Reason
		}
		if r.Info == nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\t%s\n", r.Name, health)
			continue
		}
		iso := r.Info.Isolation
		kernel := "host (shared)"
		if !iso.SharesHostKernel {
			kernel = "own: " + short(iso.GuestKernel, 22)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Info.Version, iso.Class, kernel,
			short(firstClause(iso.SyscallFilter), 24), yesNo(iso.UserNamespaces), yesNo(iso.Rootless),
			short(iso.ResourceAccounting, 28), capList(r.Info.Capabilities), health)
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// firstClause cuts a description at its first ':' or ';'.
func firstClause(s string) string {
	if i := strings.IndexAny(s, ":;("); i > 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

func short(s string, n int) string {
	if s == "" {
		return "-"
	}
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}

// capList names the claimed optional capabilities.
func capList(c driver.Capabilities) string {
	var out []string
	for _, x := range []struct {
		on   bool
		name string
	}{{c.Exec, "exec"}, {c.Terminal, "tty"}, {c.ResizePty, "resize"}, {c.CloseIO, "closeio"}, {c.Pause, "pause"},
		{c.Stats, "stats"}, {c.Update, "update"}, {c.Pids, "pids"}, {c.Events, "events"}, {c.Checkpoint, "checkpoint"}, {c.NetworkNamespace, "netns"}, {c.Sandboxes, "sandboxes"}} {
		if x.on {
			out = append(out, x.name)
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ",")
}

func newDriversInspectCommand(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect NAME|PATH",
		Short: "Show one driver in full: isolation descriptor, capabilities, health",
		Args:  argsExactly(1, "NAME|PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			bin, err := c.FindDriver(args[0])
			if err != nil {
				return err
			}
			r := probeDriver(cmd.Context(), c, bin)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			writeDriverDetail(cmd.OutOrStdout(), r)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeDriverDetail(w io.Writer, r driverReport) {
	health := "ready"
	if !r.Health.Ready {
		health = "not ready: " + r.Health.Reason
	}
	fmt.Fprintf(w, "Name:                %s\nPath:                %s\nHealth:              %s\n", r.Name, r.Path, health)
	if r.Info == nil {
		return
	}
	i, iso := r.Info, r.Info.Isolation
	fmt.Fprintf(w, "Version:             %s (contract v%d, %s/%s)\n", i.Version, i.ContractVersion, i.OS, i.Arch)
	fmt.Fprintf(w, "Isolation class:     %s\n", iso.Class)
	fmt.Fprintf(w, "Shares host kernel:  %s\n", yesNo(iso.SharesHostKernel))
	fmt.Fprintf(w, "Guest kernel:        %s\n", short(iso.GuestKernel, 200))
	fmt.Fprintf(w, "Syscall filter:      %s\n", short(iso.SyscallFilter, 300))
	fmt.Fprintf(w, "User namespaces:     %s\n", yesNo(iso.UserNamespaces))
	fmt.Fprintf(w, "Capability model:    %s\n", short(iso.CapabilityModel, 300))
	fmt.Fprintf(w, "Rootless:            %s\n", yesNo(iso.Rootless))
	fmt.Fprintf(w, "Resource accounting: %s\n", short(iso.ResourceAccounting, 300))
	fmt.Fprintf(w, "Platform:            %s\n", short(iso.Platform, 300))
	fmt.Fprintf(w, "Capabilities:        %s\n", capList(i.Capabilities))
	if len(i.Capabilities.StatsFields) > 0 {
		fmt.Fprintf(w, "Stats fields:        %s\n", strings.Join(i.Capabilities.StatsFields, ", "))
	}
	if len(iso.KnownGaps) > 0 {
		fmt.Fprintln(w, "Known gaps:")
		for _, g := range iso.KnownGaps {
			fmt.Fprintf(w, "  - %s\n", g)
		}
	}
}
