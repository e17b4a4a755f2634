package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// infoTimeout bounds launching one driver and asking for its Info.
const infoTimeout = 15 * time.Second

// driverReport is one driver in `rtd drivers --json`.
type driverReport struct {
	Name   string        `json:"name"`
	Path   string        `json:"path"`
	Health driver.Health `json:"health"`
	Info   *driver.Info  `json:"info,omitempty"`
	Error  string        `json:"error,omitempty"`
}

func newDriversCommand(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "drivers [--json]",
		Short: "List the drivers found, with version, isolation and health",
		Args:  argsExactly(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			var reports []driverReport
			for _, bin := range c.ListDrivers() {
				reports = append(reports, probeDriver(cmd.Context(), c, bin))
			}
			if asJSON {
				if reports == nil {
					reports = []driverReport{}
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(reports)
			}
			if len(reports) == 0 {
				return fmt.Errorf("no drivers found (searched: %s)", strings.Join(c.SearchPath(), ", "))
			}
			return writeDriverTable(cmd.OutOrStdout(), reports)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(newDriversInspectCommand(a))
	return cmd
}

// probeDriver launches a driver and asks for its Info; a failure becomes
// health "not ready" with the error as the reason.
func probeDriver(ctx context.Context, c *core.Core, bin core.DriverBinary) driverReport {
	r := driverReport{Name: bin.Name, Path: bin.Path}
	ctx, cancel := context.WithTimeout(ctx, infoTimeout)
	defer cancel()
	d, err := c.Driver(ctx, bin.Path)
	var info *driver.Info
	if err == nil {
		info, err = d.Info(ctx)
		d.Close()
	}
	if err != nil {
		r.Error = message(err)
		r.Health = driver.Health{Reason: r.Error}
		return r
	}
	r.Info = info
	r.Health = info.Health
	return r
}
