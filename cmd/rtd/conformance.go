package main

import (
	"fmt"
	"os"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/conformance"
	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/internal/oneproc"
)

func newConformanceCommand(a *app) *cobra.Command {
	var (
		driverArg, runArg, jsonPath, junitPath string
		churn                                  int
	)
	cmd := &cobra.Command{
		Use:   "conformance --driver NAME|PATH [--run REGEX] [--json FILE] [--junit FILE]",
		Short: "Run the driver conformance suite against a driver binary",
		Long: `Run rtd's conformance suite against a driver: an in-tree name (found like
rtd run --driver) or the path of any driver binary. One row per case, then
"N passed, N failed, N skipped". Exit status 0 only when no case failed and
the driver was ready.`,
		Args: argsExactly(0, "no argument (use --driver)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			oneproc.Restore() // a long run with cases in parallel
			if driverArg == "" {
				return usageError(fmt.Errorf("conformance: --driver NAME|PATH is required"))
			}
			var re *regexp.Regexp
			if runArg != "" {
				var err error
				if re, err = regexp.Compile(runArg); err != nil {
					return usageError(fmt.Errorf("conformance: --run %q: %v", runArg, err))
				}
			}
			c, err := a.Core()
			if err != nil {
				return err
			}
			bin, err := c.FindDriver(driverArg)
			if err != nil {
				return err
			}
			// rtd itself is the probe: static, and run as /probe it acts as one.
			self, err := os.Executable()
			if err != nil {
				return err
			}
			if err := core.CheckStatic(self); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "rtd conformance: driver %s (%s)\n", bin.Name, bin.Path)
			fmt.Fprintf(out, "%-6s %-14s %-6s %10s  %s\n", "RESULT", "CASE", "LEVEL", "TIME", "CLAUSE")
			rep, err := conformance.RunSuite(cmd.Context(), conformance.Config{
				Driver: bin.Path, Name: bin.Name, Probe: self, Run: re,
				ChurnCycles: churn, Logger: c.Logger(), Progress: out,
			})
			if rep != nil {
				if !rep.Ready {
					fmt.Fprintf(out, "driver %s is not ready: %s\n", rep.Driver, rep.Health)
				}
				if rep.Warned > 0 {
					fmt.Fprintf(out, "%d SHOULD case(s) not met (WARN rows above)\n", rep.Warned)
				}
				fmt.Fprintln(out, rep.Summary())
				if jsonPath != "" {
					if werr := rep.WriteJSON(jsonPath); werr != nil {
						return werr
					}
				}
				if junitPath != "" {
					if werr := rep.WriteJUnit(junitPath); werr != nil {
						return werr
					}
				}
			}
			if err != nil {
				return err
			}
			if !rep.OK() || !rep.Ready {
				return statusError{code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&driverArg, "driver", "", "driver name (on the search path) or path of a driver binary")
	f.StringVar(&runArg, "run", "", "run only the cases whose ID matches this regular expression")
	f.StringVar(&jsonPath, "json", "", "write the report as JSON to this file")
	f.StringVar(&junitPath, "junit", "", "write the report as JUnit XML to this file")
	f.IntVar(&churn, "churn", 0, "create/delete cycles of ROBUST-003 (default 200)")
	return cmd
}
