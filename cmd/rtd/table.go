package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/spf13/cobra"
)

// newTable returns the column writer of every listing (ls, ps, stats,
// top), with the header line written: header's cells are the columns.
// The caller adds rows with tableRow and calls Flush.
func newTable(w io.Writer, header ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	tableRow(tw, header...)
	return tw
}

// tableRow writes one row of cells to a table.
func tableRow(tw io.Writer, cells ...string) {
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
}

// writeJSON prints v as indented JSON (inspect, --format json).
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeTemplate prints rows with a --format template: one per line, or,
// with table, as aligned columns under header (the row of column names).
func writeTemplate[R any](w io.Writer, tmpl *template.Template, table bool, header R, rows []R) error {
	if !table {
		for _, r := range rows {
			if err := execTemplate(w, tmpl, r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	for _, r := range append([]R{header}, rows...) {
		if err := execTemplate(tw, tmpl, r); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// eachName runs fn for each name in args, as docker's commands on several
// objects do (network rm, volume rm; eachContainer for containers): each
// success prints the name, each failure one "rtd: ..." line, and the last
// failure ends rtd once every name was tried.
func eachName(cmd *cobra.Command, args []string, fn func(name string) error) error {
	var last error
	for _, name := range args {
		if err := fn(name); err != nil {
			if last != nil {
				fmt.Fprintln(os.Stderr, "rtd: "+message(last))
			}
			last = err
			continue
		}
		fmt.Fprintln(cmd.OutOrStdout(), name)
	}
	return last
}
