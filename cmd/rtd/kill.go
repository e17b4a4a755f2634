package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/driver"
)

func newKillCommand(a *app) *cobra.Command {
	var signal string
	cmd := &cobra.Command{
		Use:   "kill [-s SIGNAL] CONTAINER...",
		Short: "Send a signal (default KILL) to containers",
		Args:  argsAtLeast(1, "CONTAINER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			sig, err := parseSignal(signal)
			if err != nil {
				return err
			}
			for _, ref := range args {
				rec, d, err := a.containerDriver(ref)
				if err != nil {
					return err
				}
				if err := d.Kill(cmd.Context(), &driver.KillRequest{ID: rec.ID, Signal: sig}); err != nil {
					return lost(rec, err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), rec.ID)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "KILL", "signal name (KILL, SIGTERM, ...) or number")
	return cmd
}

// parseSignal accepts a number or a name, with or without SIG, any case.
func parseSignal(s string) (uint32, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		if n == 0 || n > 64 {
			return 0, driver.InvalidArgumentf("invalid signal %q: want 1-64 or a name", s)
		}
		return uint32(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if n := signalNumber(name); n != 0 {
		return n, nil
	}
	return 0, driver.InvalidArgumentf("invalid signal %q: unknown name", s)
}
