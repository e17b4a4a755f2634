package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

func newPsCommand(a *app) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "ps [-a]",
		Short: "List running containers (-a: all)",
		Args:  argsExactly(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			// Containers whose creator died half-way are removed, not
			// listed as unknown.
			c.ReclaimAbandoned(ctx)
			recs, err := c.Records()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 3, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tDRIVER\tIMAGE\tCOMMAND\tSTATUS\tCREATED")
			for _, rec := range recs {
				st, serr := c.State(ctx, rec)
				if serr == nil && rec.AutoRemove && st.Status == driver.StatusStopped {
					if err := c.Remove(ctx, rec, false); err == nil {
						continue
					}
				}
				status, running := describeState(st, serr)
				if serr != nil && c.Creating(rec) {
					status, running = "creating", true
				}
				if !all && !running {
					continue
				}
				name := rec.Name
				if name == "" {
					name = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", rec.ID, name, rec.Driver, rec.Image,
					shorten(quoteCommand(rec.Command), 30), status, ago(rec.Created))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "show all containers, not only running ones")
	return cmd
}

// describeState is the STATUS column and whether ps shows it by default
// (running, paused, or unknown: nothing is hidden that may be running).
func describeState(st *driver.State, err error) (string, bool) {
	if err != nil {
		return "unknown (" + shorten(message(err), 60) + ")", true
	}
	switch st.Status {
	case driver.StatusStopped:
		if st.Exit != nil {
			s := "exited (" + strconv.Itoa(int(st.Exit.Code)) + ")"
			if st.Exit.OOMKilled {
				s += " oom-killed"
			}
			if strings.HasPrefix(st.Exit.Reason, "monitor lost") {
				// The driver's monitor died: the process was killed (137)
				// or ended unwatched (255); inspect has the whole reason.
				s += " monitor lost"
			}
			return s, false
		}
		return "stopped", false
	case driver.StatusCreated:
		return "created", false
	case driver.StatusRunning, driver.StatusPaused:
		return string(st.Status), true
	}
	return string(st.Status), true
}

// quoteCommand joins a command line, quoting arguments that need it.
func quoteCommand(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$") {
			out[i] = strconv.Quote(a)
		} else {
			out[i] = a
		}
	}
	return strings.Join(out, " ")
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// ago says how long ago t was, like docker ("5 seconds ago").
func ago(t time.Time) string {
	d := time.Since(t)
	unit := func(n int, name string) string {
		if n == 1 {
			return "1 " + name + " ago"
		}
		return strconv.Itoa(n) + " " + name + "s ago"
	}
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return unit(int(d/time.Second), "second")
	case d < time.Hour:
		return unit(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return unit(int(d/time.Hour), "hour")
	}
	return unit(int(d/(24*time.Hour)), "day")
}

// stateOf returns the driver's state of rec, or the error as a string.
func stateOf(ctx context.Context, c *core.Core, rec *core.Record) (*driver.State, string) {
	st, err := c.State(ctx, rec)
	if err != nil {
		return nil, message(err)
	}
	return st, ""
}
