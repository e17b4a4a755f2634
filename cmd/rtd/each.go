package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
)

// eachContainer runs fn for each container named in args, as docker's
// commands on several containers do: each success prints the name as
// given, each failure one "rtd: ..." line, and the last failure ends rtd
// (exit 125 or its own code) once every container was tried.
func eachContainer(cmd *cobra.Command, a *app, args []string, fn func(*core.Core, *core.Record) error) error {
	c, err := a.Core()
	if err != nil {
		return err
	}
	var last error
	for _, ref := range args {
		rec, err := c.Lookup(ref)
		if err == nil {
			err = fn(c, rec)
		}
		if err != nil {
			if last != nil {
				fmt.Fprintln(os.Stderr, "rtd: "+message(last))
			}
			last = err
			continue
		}
		fmt.Fprintln(cmd.OutOrStdout(), ref)
	}
	return last
}
