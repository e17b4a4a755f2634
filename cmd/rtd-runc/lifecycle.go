//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// onContainer runs fn with the record and driver of args[0].
func (a *app) onContainer(cmd *cobra.Command, args []string, fn func(ctx context.Context, s *session, rec *record, d *core.Plugin) error) error {
	s, err := a.open()
	if err != nil {
		return err
	}
	defer s.close()
	ctx := cmd.Context()
	rec, d, err := s.container(ctx, args[0])
	if err != nil {
		return err
	}
	return fn(ctx, s, rec, d)
}

func (a *app) startCommand() *cobra.Command {
	return &cobra.Command{
		Use: "start ID", Short: "start a created container", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.onContainer(cmd, args, func(ctx context.Context, s *session, rec *record, d *core.Plugin) error {
				st, err := d.State(ctx, rec.ID)
				if err != nil {
					return err
				}
				switch st.Status {
				case driver.StatusCreated:
				case driver.StatusStopped:
					return driver.FailedPreconditionf("cannot start a container that has stopped")
				default:
					return driver.FailedPreconditionf("cannot start an already running container")
				}
				return d.Start(ctx, rec.ID)
			})
		},
	}
}

// runcState is runc's `state` output (the OCI state plus runc's fields).
type runcState struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func stateOf(rec *record, st *driver.State) runcState {
	out := runcState{OCIVersion: specs.Version, ID: rec.ID, Status: string(st.Status), Bundle: rec.Bundle,
		Rootfs: rec.Rootfs, Created: rec.Created, Owner: rec.Owner, Annotations: rec.Annotations}
	if st.Status != driver.StatusStopped {
		out.Pid = int(st.Pid)
	}
	return out
}

func (a *app) stateCommand() *cobra.Command {
	return &cobra.Command{
		Use: "state ID", Short: "output the state of a container", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.onContainer(cmd, args, func(ctx context.Context, s *session, rec *record, d *core.Plugin) error {
				st, err := d.State(ctx, rec.ID)
				if err != nil {
					return err
				}
				return printJSON(stateOf(rec, st))
			})
		},
	}
}

func printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Println(string(b))
	return err
}

// parseSignal takes a name (KILL, SIGKILL) or a number, as runc does.
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, driver.InvalidArgumentf("unknown signal %q", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, driver.InvalidArgumentf("unknown signal %q", s)
}

func (a *app) killCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use: "kill ID [SIGNAL]", Short: "send a signal to a container's init process (default SIGTERM)", Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			sig := unix.SIGTERM
			if len(args) == 2 {
				var err error
				if sig, err = parseSignal(args[1]); err != nil {
					return err
				}
			}
			return a.onContainer(cmd, args, func(ctx context.Context, s *session, rec *record, d *core.Plugin) error {
				st, err := d.State(ctx, rec.ID)
				if err != nil {
					return err
				}
				if st.Status == driver.StatusStopped {
					return driver.FailedPreconditionf("container not running")
				}
				return d.Kill(ctx, &driver.KillRequest{ID: rec.ID, Signal: uint32(sig), All: all})
			})
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "send the signal to all processes of the container")
	return cmd
}

func (a *app) deleteCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use: "delete [--force] ID", Short: "delete a container", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := a.onContainer(cmd, args, func(ctx context.Context, s *session, rec *record, d *core.Plugin) error {
				st, err := d.State(ctx, rec.ID)
				if err != nil && !errdefs.IsNotFound(err) {
					return err
				}
				if err == nil {
					if !force && st.Status != driver.StatusStopped && st.Status != driver.StatusCreated {
						return driver.FailedPreconditionf("cannot delete container %s that is not stopped: %s", rec.ID, st.Status)
					}
					if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: rec.ID, Force: force || st.Status == driver.StatusCreated}); err != nil && !errdefs.IsNotFound(err) {
						return err
					}
				}
				endStandin(rec.StandinPid, 5*time.Second)
				return s.store.Remove(rec.ID)
			})
			if force && errdefs.IsNotFound(err) {
				return nil // runc: delete --force of an unknown container succeeds
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "kill the container first if it is running")
	return cmd
}

func (a *app) pauseCommand() *cobra.Command {
	return &cobra.Command{
		Use: "pause ID", Short: "suspend all processes of a container", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.onContainer(cmd, args, func(ctx context.Context, s *session, rec *record, d *core.Plugin) error {
				return d.Do(ctx, func(cl *driver.Client) error { return cl.Pause(ctx, rec.ID) })
			})
		},
	}
}

func (a *app) resumeCommand() *cobra.Command {
	return &cobra.Command{
		Use: "resume ID", Short: "resume a paused container", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.onContainer(cmd, args, func(ctx context.Context, s *session, rec *record, d *core.Plugin) error {
				return d.Do(ctx, func(cl *driver.Client) error { return cl.Resume(ctx, rec.ID) })
			})
		},
	}
}

func (a *app) psCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use: "ps [--format table|json] ID", Short: "list the processes of a container", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.onContainer(cmd, args[:1], func(ctx context.Context, s *session, rec *record, d *core.Plugin) error {
				var procs []driver.ProcessInfo
				err := d.Do(ctx, func(cl *driver.Client) (err error) { procs, err = cl.Pids(ctx, rec.ID); return err })
				if err != nil {
					return err
				}
				pids := make([]int, 0, len(procs))
				for _, p := range procs {
					pids = append(pids, int(p.Pid))
				}
				if format == "json" {
					b, _ := json.Marshal(pids)
					_, err := fmt.Println(string(b))
					return err
				}
				fmt.Println("PID")
				for _, p := range pids {
					fmt.Println(p)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "table or json")
	return cmd
}

func (a *app) listCommand() *cobra.Command {
	var format string
	var quiet bool
	cmd := &cobra.Command{
		Use: "list", Aliases: []string{"ls"}, Short: "list containers", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			defer s.close()
			ids, err := s.store.IDs()
			if err != nil {
				return err
			}
			var states []runcState
			for _, id := range ids {
				rec, d, err := s.container(cmd.Context(), id)
				if err != nil {
					continue
				}
				st, err := d.State(cmd.Context(), id)
				if err != nil {
					continue
				}
				states = append(states, stateOf(rec, st))
			}
			switch {
			case quiet:
				for _, st := range states {
					fmt.Println(st.ID)
				}
			case format == "json":
				b, _ := json.Marshal(states)
				fmt.Println(string(b))
			default:
				w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
				fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
				for _, st := range states {
					fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", st.ID, st.Pid, st.Status, st.Bundle, st.Created.Format(time.RFC3339Nano), st.Owner)
				}
				return w.Flush()
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "table or json")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "display only container ids")
	return cmd
}
