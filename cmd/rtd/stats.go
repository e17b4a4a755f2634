package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// statsInterval is how far apart the two samples of a CPU percentage are,
// and how often stats refreshes without --no-stream.
const statsInterval = time.Second

func newStatsCommand(a *app) *cobra.Command {
	var noStream, all bool
	var format string
	cmd := &cobra.Command{
		Use:   "stats [--no-stream] [-a] [CONTAINER...]",
		Short: "Show containers' CPU, memory and pids usage (drivers with the stats capability); refreshes each second unless --no-stream",
		RunE: func(cmd *cobra.Command, args []string) error {
			tmpl, table := (*template.Template)(nil), true
			if format != "" {
				t, tb, err := parseFormat(format)
				if err != nil {
					return err
				}
				tmpl, table = t, tb
			}
			c, err := a.Core()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			recs, err := statsTargets(ctx, c, args, all)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			prev := sampleStats(ctx, c, recs)
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(statsInterval):
				}
				cur := sampleStats(ctx, c, recs)
				rows := statsRows(recs, prev, cur, statsInterval)
				if !noStream {
					fmt.Fprint(w, "\033[2J\033[H") // clear the screen, as docker
				}
				if err := writeStats(w, rows, tmpl, table); err != nil {
					return err
				}
				if noStream {
					if len(args) > 0 {
						// Named containers that have no stats are an error
						// after the table, as docker's.
						for _, r := range rows {
							if r.err != nil {
								return r.err
							}
						}
					}
					return nil
				}
				prev = cur
			}
		},
	}
	cmd.Flags().BoolVar(&noStream, "no-stream", false, "print one table and exit")
	cmd.Flags().BoolVarP(&all, "all", "a", false, "all containers (default: running ones)")
	cmd.Flags().StringVar(&format, "format", "", "Go template over .Container, .Name, .ID, .CPUPerc, .MemUsage, .MemPerc, .PIDs; \"table ...\"; json")
	return cmd
}

// statsTargets are the named containers, or every running one (-a: all).
func statsTargets(ctx context.Context, c *core.Core, args []string, all bool) ([]*core.Record, error) {
	if len(args) > 0 {
		var recs []*core.Record
		for _, ref := range args {
			rec, err := c.Lookup(ref)
			if err != nil {
				return nil, err
			}
			recs = append(recs, rec)
		}
		return recs, nil
	}
	recs, err := c.Records()
	if err != nil {
		return nil, err
	}
	if all {
		return recs, nil
	}
	return slices.DeleteFunc(recs, func(r *core.Record) bool {
		st, err := c.State(ctx, r)
		return err != nil || (st.Status != driver.StatusRunning && st.Status != driver.StatusPaused)
	}), nil
}

type statsSample struct {
	st  *driver.Stats
	err error
}

func sampleStats(ctx context.Context, c *core.Core, recs []*core.Record) []statsSample {
	out := make([]statsSample, len(recs))
	for i, rec := range recs {
		d, err := c.DriverOf(rec)
		if err == nil {
			out[i].st, err = d.Stats(ctx, rec.ID)
		}
		out[i].err = lost(rec, err)
	}
	return out
}

// statsRow is one line of stats; its fields are docker's --format names.
type statsRow struct {
	Container, ID, Name, CPUPerc, MemUsage, MemPerc, PIDs string
	err                                                   error
}

func statsRows(recs []*core.Record, prev, cur []statsSample, interval time.Duration) []statsRow {
	rows := make([]statsRow, len(recs))
	for i, rec := range recs {
		name := rec.Name
		if name == "" {
			name = rec.ID
		}
		r := statsRow{Container: rec.ID, ID: rec.ID, Name: name, CPUPerc: "--", MemUsage: "-- / --", MemPerc: "--", PIDs: "--", err: cur[i].err}
		st := cur[i].st
		if st != nil {
			has := func(f string) bool { return slices.Contains(st.Fields, f) }
			if has("cpu") && prev[i].st != nil && st.CPUUsageNanos >= prev[i].st.CPUUsageNanos {
				// Share of one CPU, as docker (100% = one CPU busy).
				r.CPUPerc = fmt.Sprintf("%.2f%%", float64(st.CPUUsageNanos-prev[i].st.CPUUsageNanos)/float64(interval.Nanoseconds())*100)
			}
			if has("memory") {
				if total := hostMemory(); total > 0 && st.MemoryLimitBytes > total {
					st.MemoryLimitBytes = total // no limit: the host's memory, as docker shows
				}
				r.MemUsage = humanBytes(st.MemoryUsageBytes) + " / " + humanBytes(st.MemoryLimitBytes)
				if st.MemoryLimitBytes > 0 {
					r.MemPerc = fmt.Sprintf("%.2f%%", float64(st.MemoryUsageBytes)/float64(st.MemoryLimitBytes)*100)
				}
			}
			if has("pids") {
				r.PIDs = strconv.FormatUint(st.PidsCurrent, 10)
			}
		}
		rows[i] = r
	}
	return rows
}

func writeStats(w io.Writer, rows []statsRow, tmpl *template.Template, table bool) error {
	if tmpl != nil {
		header := statsRow{Container: "CONTAINER", ID: "CONTAINER ID", Name: "NAME", CPUPerc: "CPU %", MemUsage: "MEM USAGE / LIMIT", MemPerc: "MEM %", PIDs: "PIDS"}
		return writeTemplate(w, tmpl, table, header, rows)
	}
	tw := newTable(w, "CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS")
	for _, r := range rows {
		tableRow(tw, r.ID, r.Name, r.CPUPerc, r.MemUsage, r.MemPerc, r.PIDs)
	}
	return tw.Flush()
}

// humanBytes is docker's binary size format (1.5MiB).
func humanBytes(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}

// hostMemory is the host's MemTotal in bytes (0 when unknown).
func hostMemory() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			var kb uint64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb); err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}
