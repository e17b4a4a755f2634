//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/ocispec"
)

func (a *app) updateCommand() *cobra.Command {
	var resources string
	var memory, pidsLimit, cpuQuota, cpuShares int64
	var cpuPeriod uint64
	cmd := &cobra.Command{
		Use: "update [flags] ID", Short: "update a container's resource limits", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := &specs.LinuxResources{}
			if resources != "" {
				var in io.Reader = os.Stdin
				if resources != "-" {
					f, err := os.Open(resources)
					if err != nil {
						return driver.InvalidArgumentf("update: %v", err)
					}
					defer f.Close()
					in = f
				}
				if err := json.NewDecoder(in).Decode(r); err != nil {
					return driver.InvalidArgumentf("update: decode the resources JSON: %v", err)
				}
			}
			fl := cmd.Flags()
			if fl.Changed("memory") {
				r.Memory = &specs.LinuxMemory{Limit: &memory}
			}
			if fl.Changed("pids-limit") {
				r.Pids = &specs.LinuxPids{Limit: &pidsLimit}
			}
			if fl.Changed("cpu-quota") || fl.Changed("cpu-period") || fl.Changed("cpu-share") {
				if r.CPU == nil {
					r.CPU = &specs.LinuxCPU{}
				}
				if fl.Changed("cpu-quota") {
					r.CPU.Quota = &cpuQuota
				}
				if fl.Changed("cpu-period") {
					r.CPU.Period = &cpuPeriod
				}
				if fl.Changed("cpu-share") {
					sh := uint64(cpuShares)
					r.CPU.Shares = &sh
				}
			}
			return a.onContainer(cmd, args, func(ctx context.Context, s *session, rec *record, d *core.Plugin) error {
				return d.Do(ctx, func(cl *driver.Client) error { return cl.Update(ctx, &driver.UpdateRequest{ID: rec.ID, Resources: r}) })
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&resources, "resources", "r", "", "path to a JSON file of LinuxResources, - for stdin")
	f.Int64VarP(&memory, "memory", "m", 0, "memory limit in bytes")
	f.Int64Var(&pidsLimit, "pids-limit", 0, "maximum number of pids")
	f.Int64Var(&cpuQuota, "cpu-quota", 0, "CPU CFS quota")
	f.Uint64Var(&cpuPeriod, "cpu-period", 0, "CPU CFS period")
	f.Int64Var(&cpuShares, "cpu-share", 0, "CPU shares")
	return cmd
}

// runcEvent is one line of runc's events output.
type runcEvent struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// runcStats is the part of runc's stats events rtd's drivers measure.
type runcStats struct {
	CPU struct {
		Usage struct {
			Total uint64 `json:"total"`
		} `json:"usage"`
	} `json:"cpu"`
	Memory struct {
		Usage struct {
			Usage uint64 `json:"usage"`
			Limit uint64 `json:"limit"`
		} `json:"usage"`
	} `json:"memory"`
	Pids struct {
		Current uint64 `json:"current"`
		Limit   uint64 `json:"limit"`
	} `json:"pids"`
}

func (a *app) eventsCommand() *cobra.Command {
	var stats bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use: "events [--stats] [--interval D] ID", Short: "print a container's resource usage as JSON events", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.onContainer(cmd, args, func(ctx context.Context, s *session, rec *record, d *core.Plugin) error {
				for {
					var st *driver.Stats
					err := d.Do(ctx, func(cl *driver.Client) (err error) { st, err = cl.Stats(ctx, rec.ID); return err })
					if err != nil {
						return err
					}
					var out runcStats
					out.CPU.Usage.Total = st.CPUUsageNanos
					out.Memory.Usage.Usage, out.Memory.Usage.Limit = st.MemoryUsageBytes, st.MemoryLimitBytes
					out.Pids.Current, out.Pids.Limit = st.PidsCurrent, st.PidsLimit
					b, _ := json.Marshal(runcEvent{Type: "stats", ID: rec.ID, Data: out})
					fmt.Println(string(b))
					if stats {
						return nil
					}
					select {
					case <-ctx.Done():
						return nil
					case <-time.After(interval):
					}
					if cur, err := d.State(ctx, rec.ID); err != nil || cur.Status == driver.StatusStopped {
						return nil
					}
				}
			})
		},
	}
	cmd.Flags().BoolVar(&stats, "stats", false, "print the container's stats once and exit")
	cmd.Flags().DurationVar(&interval, "interval", 5*time.Second, "time between stats")
	return cmd
}

func (a *app) featuresCommand() *cobra.Command {
	return &cobra.Command{
		Use: "features", Short: "print what this runtime supports, as JSON", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			yes := true
			f := features.Features{
				OCIVersionMin: "1.0.0",
				OCIVersionMax: specs.Version,
				Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
				MountOptions:  []string{"bind", "rbind", "ro", "rw", "nosuid", "nodev", "noexec", "private", "rprivate", "shared", "rshared", "slave", "rslave"},
				Linux: &features.Linux{
					Namespaces:   []string{"cgroup", "ipc", "mount", "network", "pid", "user", "uts"},
					Capabilities: ocispec.DefaultCapabilities,
					Cgroup:       &features.Cgroup{V1: &yes, V2: &yes},
					Seccomp:      &features.Seccomp{Enabled: &yes},
				},
				Annotations: map[string]string{"io.rtd.runc.driver": a.driverName()},
			}
			return printJSON(f)
		},
	}
}

func (a *app) specCommand() *cobra.Command {
	var bundle string
	var rootless bool
	cmd := &cobra.Command{
		Use: "spec", Short: "write a default config.json into the bundle", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if rootless {
				return driver.NotImplementedf("spec: --rootless is not supported by rtd-runc")
			}
			path := filepath.Join(bundle, "config.json")
			if _, err := os.Stat(path); err == nil {
				return driver.AlreadyExistsf("file %s exists. Remove it first", path)
			}
			spec := ocispec.Default("rootfs", []string{"sh"})
			spec.Process.Terminal = true
			b, err := json.MarshalIndent(spec, "", "\t")
			if err != nil {
				return err
			}
			return os.WriteFile(path, b, 0o666)
		},
	}
	cmd.Flags().StringVarP(&bundle, "bundle", "b", ".", "bundle directory")
	cmd.Flags().BoolVar(&rootless, "rootless", false, "rootless spec (not supported)")
	return cmd
}
