package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

func newPsCommand(a *app) *cobra.Command {
	var all, quiet, noTrunc bool
	var format string
	var filters []string
	cmd := &cobra.Command{
		Use:   "ps [-a] [-q] [--filter KEY=VALUE] [--format TEMPLATE] [--no-trunc]",
		Short: "List running containers (-a: all)",
		Args:  argsExactly(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fs, err := parsePsFilters(filters)
			if err != nil {
				return err
			}
			var tmpl *template.Template
			table := true
			if format != "" {
				quiet = false // docker: --format wins over -q
				if tmpl, table, err = parseFormat(format); err != nil {
					return err
				}
			}
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
			var rows []psRow
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
				// A status filter asks for what it names, running or not.
				if !all && !running && len(fs) == 0 {
					continue
				}
				row := newPsRow(rec, status, st, noTrunc)
				if matchPsFilters(row, fs) {
					rows = append(rows, row)
				}
			}
			return writePs(cmd.OutOrStdout(), rows, quiet, tmpl, table)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "show all containers, not only running ones")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the ids")
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "do not shorten the command")
	cmd.Flags().StringVar(&format, "format", "", "Go template over .ID, .Names, .Image, .Command, .Status, .State, .CreatedAt, .RunningFor, .Labels, .Label, .Driver; \"table TEMPLATE\" adds a header; json")
	cmd.Flags().StringArrayVarP(&filters, "filter", "f", nil, "filter: id=, name=, label=KEY[=VALUE], status=, exited=CODE, driver=, ancestor=IMAGE")
	return cmd
}

// writePs prints the rows: ids only (-q), through a template, or as the
// default table.
func writePs(w io.Writer, rows []psRow, quiet bool, tmpl *template.Template, table bool) error {
	if quiet {
		for _, r := range rows {
			fmt.Fprintln(w, r.ID)
		}
		return nil
	}
	if tmpl != nil {
		header := psRow{ID: "CONTAINER ID", Names: "NAMES", Image: "IMAGE", Command: "COMMAND", Status: "STATUS",
			State: "STATE", CreatedAt: "CREATED AT", RunningFor: "CREATED", Driver: "DRIVER", Labels: "LABELS", Ports: "PORTS"}
		return writeTemplate(w, tmpl, table, header, rows)
	}
	tw := newTable(w, "ID", "NAME", "DRIVER", "IMAGE", "COMMAND", "STATUS", "CREATED", "PORTS")
	for _, r := range rows {
		tableRow(tw, r.ID, r.Names, r.Driver, r.Image, r.Command, r.Status, r.RunningFor, r.Ports)
	}
	return tw.Flush()
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
