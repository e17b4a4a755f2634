package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/logfile"
)

func newLogsCommand(a *app) *cobra.Command {
	var follow, timestamps, details bool
	var tail, since, until string
	cmd := &cobra.Command{
		Use:   "logs [-f] [-t] [--details] [-n N] [--since T] [--until T] CONTAINER",
		Short: "Print the output of a detached container (its stderr to stderr)",
		Args:  argsExactly(1, "CONTAINER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := logView{stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr(), tail: -1,
				opts: logfile.Options{Timestamps: timestamps}}
			if tail != "all" {
				n, err := strconv.Atoi(tail)
				if err != nil {
					return usageError(fmt.Errorf("invalid --tail %q: want a number of lines or all", tail))
				}
				v.tail = max(n, -1) // docker: a negative number is all
			}
			now := time.Now()
			var err error
			if since != "" {
				if v.opts.Since, err = parseTimeArg(since, now); err != nil {
					return err
				}
			}
			if until != "" {
				if v.opts.Until, err = parseTimeArg(until, now); err != nil {
					return err
				}
			}
			c, err := a.Core()
			if err != nil {
				return err
			}
			rec, err := c.Lookup(args[0])
			if err != nil {
				return err
			}
			if details {
				v.opts.Details, v.opts.Attrs = true, core.LogDetails(rec.LogAttrs)
			}
			if rec.LogPath == "" {
				return driver.FailedPreconditionf("logs %s: the container ran attached, its output was not kept (logs are kept for run -d and create)", rec.ID)
			}
			if !follow {
				_, err := showLog(cmd.Context(), nil, rec.ID, rec.LogPath, v)
				return err
			}
			d, err := c.DriverOf(rec)
			if err != nil {
				return err
			}
			_, err = showLog(cmd.Context(), d, rec.ID, rec.LogPath, v)
			return lost(rec, err)
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing output until the container exits")
	cmd.Flags().StringVarP(&tail, "tail", "n", "all", "print only the last N lines")
	cmd.Flags().BoolVarP(&timestamps, "timestamps", "t", false, "prefix each line with the time it was written (RFC 3339, nanoseconds)")
	cmd.Flags().BoolVar(&details, "details", false, "prefix each line with the log attributes run --log-opt chose (labels, env: KEY=VALUE,...)")
	cmd.Flags().StringVar(&since, "since", "", "only lines written since a time (RFC 3339, Unix seconds, or a duration such as 10m)")
	cmd.Flags().StringVar(&until, "until", "", "only lines written before a time (RFC 3339, Unix seconds, or a duration such as 10m)")
	return cmd
}
