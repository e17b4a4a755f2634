package main

import (
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
	return eachName(cmd, args, func(ref string) error {
		rec, err := c.Lookup(ref)
		if err != nil {
			return err
		}
		return fn(c, rec)
	})
}

// lookup opens the core and finds the container ref names.
func (a *app) lookup(ref string) (*core.Core, *core.Record, error) {
	c, err := a.Core()
	if err != nil {
		return nil, nil, err
	}
	rec, err := c.Lookup(ref)
	return c, rec, err
}

// containerDriver finds the container ref names and the driver that runs
// it.
func (a *app) containerDriver(ref string) (*core.Record, *core.Plugin, error) {
	c, rec, err := a.lookup(ref)
	if err != nil {
		return nil, nil, err
	}
	d, err := c.DriverOf(rec)
	return rec, d, err
}

// eachDriver is eachContainer with the driver of each container.
func eachDriver(cmd *cobra.Command, a *app, args []string, fn func(*core.Record, *core.Plugin) error) error {
	return eachContainer(cmd, a, args, func(c *core.Core, rec *core.Record) error {
		d, err := c.DriverOf(rec)
		if err != nil {
			return err
		}
		return fn(rec, d)
	})
}
