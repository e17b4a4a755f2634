package main

import (
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
	"github.com/rtd-project/rtd/kit/ocispec"
)

func newUpdateCommand(a *app) *cobra.Command {
	var memory string
	var cpus float64
	var pids int64
	cmd := &cobra.Command{
		Use:   "update [--memory M] [--cpus N] [--pids-limit N] CONTAINER...",
		Short: "Change the resource limits of running containers (drivers with the update capability)",
		Args:  argsAtLeast(1, "CONTAINER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			res := &specs.LinuxResources{}
			set := false
			if memory != "" {
				m, err := core.ParseMemory(memory)
				if err != nil {
					return err
				}
				res.Memory = &specs.LinuxMemory{Limit: &m}
				set = true
			}
			if cmd.Flags().Changed("cpus") {
				if cpus <= 0 {
					return usageError(fmt.Errorf("invalid --cpus %v: must be more than 0", cpus))
				}
				period := uint64(100000)
				quota := int64(cpus * float64(period))
				res.CPU = &specs.LinuxCPU{Period: &period, Quota: &quota}
				set = true
			}
			if cmd.Flags().Changed("pids-limit") {
				if pids <= 0 {
					return usageError(fmt.Errorf("invalid --pids-limit %d: must be more than 0", pids))
				}
				res.Pids = &specs.LinuxPids{Limit: &pids}
				set = true
			}
			if !set {
				return driver.InvalidArgumentf("update: give at least one of --memory, --cpus, --pids-limit")
			}
			return eachContainer(cmd, a, args, func(c *core.Core, rec *core.Record) error {
				d, err := c.DriverOf(rec)
				if err != nil {
					return err
				}
				if err := d.Update(cmd.Context(), &driver.UpdateRequest{ID: rec.ID, Resources: res}); err != nil {
					return lost(rec, err)
				}
				return recordResources(rec, res)
			})
		},
	}
	cmd.Flags().StringVarP(&memory, "memory", "m", "", "memory limit (e.g. 64m, 1g)")
	cmd.Flags().Float64Var(&cpus, "cpus", 0, "number of CPUs")
	cmd.Flags().Int64Var(&pids, "pids-limit", 0, "maximum number of processes")
	return cmd
}

// recordResources writes the new limits into the container's bundle, so
// that inspect shows them and a restart keeps them, as docker's update.
func recordResources(rec *core.Record, res *specs.LinuxResources) error {
	spec, err := ocispec.Load(rec.Bundle)
	if err != nil {
		return fmt.Errorf("update %s: %w", rec.ID, err)
	}
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	if spec.Linux.Resources == nil {
		spec.Linux.Resources = &specs.LinuxResources{}
	}
	r := spec.Linux.Resources
	if res.Memory != nil {
		r.Memory = res.Memory
	}
	if res.CPU != nil {
		r.CPU = res.CPU
	}
	if res.Pids != nil {
		r.Pids = res.Pids
	}
	if err := atomicfile.WriteJSON(filepath.Join(rec.Bundle, ocispec.ConfigName), spec, 0o600); err != nil {
		return fmt.Errorf("update %s: %w", rec.ID, err)
	}
	return nil
}
