package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/driver"
)

func newLogsCommand(a *app) *cobra.Command {
	var follow bool
	var tail string
	cmd := &cobra.Command{
		Use:   "logs [-f] [-n N] CONTAINER",
		Short: "Print the output of a detached container",
		Args:  argsExactly(1, "CONTAINER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			rec, err := c.Lookup(args[0])
			if err != nil {
				return err
			}
			if rec.LogPath == "" {
				return driver.FailedPreconditionf("logs %s: the container ran attached, its output was not kept (logs are kept for run -d and create)", rec.ID)
			}
			if tail != "all" {
				n, err := strconv.Atoi(tail)
				if err != nil || n < 0 {
					return usageError(fmt.Errorf("invalid --tail %q: want a number of lines or all", tail))
				}
				if err := writeTail(cmd.OutOrStdout(), rec.LogPath, n); err != nil {
					return err
				}
				if !follow {
					return nil
				}
				d, err := c.DriverOf(rec)
				if err != nil {
					return err
				}
				_, err = followLogFrom(cmd.Context(), d, rec.ID, rec.LogPath, cmd.OutOrStdout(), true)
				return lost(rec, err)
			}
			if follow {
				d, err := c.DriverOf(rec)
				if err != nil {
					return err
				}
				_, err = followLog(cmd.Context(), d, rec.ID, rec.LogPath, cmd.OutOrStdout())
				return lost(rec, err)
			}
			f, err := os.Open(rec.LogPath)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(cmd.OutOrStdout(), f)
			return err
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing output until the container exits")
	cmd.Flags().StringVarP(&tail, "tail", "n", "all", "print only the last N lines")
	return cmd
}

// writeTail writes the last n lines of the file at path.
func writeTail(w io.Writer, path string, n int) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	_, err = w.Write(bytes.Join(lines[max(len(lines)-n, 0):], nil))
	return err
}
