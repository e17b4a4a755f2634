package main

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// inspection is what inspect prints per container.
type inspection struct {
	Record     *core.Record `json:"record"`
	State      *stateView   `json:"state,omitempty"`
	StateError string       `json:"stateError,omitempty"`
	// Security is what the spec given to the driver applies.
	Security *securityView `json:"security,omitempty"`
}

// stateView is the driver's state of a container as inspect shows it.
type stateView struct {
	Status      driver.Status     `json:"status"`
	Pid         uint32            `json:"pid"`
	Bundle      string            `json:"bundle"`
	CreatedAt   time.Time         `json:"createdAt"`
	Exit        *exitView         `json:"exit,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// exitView is an exit status as inspect shows it.
type exitView struct {
	Code      uint32    `json:"code"`
	Signal    int32     `json:"signal,omitempty"`
	OOMKilled bool      `json:"oomKilled,omitempty"`
	ExitedAt  time.Time `json:"exitedAt"`
	Reason    string    `json:"reason,omitempty"`
}

func viewState(st *driver.State) *stateView {
	if st == nil {
		return nil
	}
	v := &stateView{Status: st.Status, Pid: st.Pid, Bundle: st.Bundle, CreatedAt: st.CreatedAt, Annotations: st.Annotations}
	if e := st.Exit; e != nil {
		v.Exit = &exitView{Code: e.Code, Signal: e.Signal, OOMKilled: e.OOMKilled, ExitedAt: e.ExitedAt, Reason: e.Reason}
	}
	return v
}

func newInspectCommand(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect [--format TEMPLATE] CONTAINER...",
		Short: "Print the record, the driver's state and the applied security of containers as JSON",
		Args:  argsAtLeast(1, "CONTAINER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			if format != "" {
				return inspectFormatted(cmd, c, args, format)
			}
			var out []inspection
			errs := inspectEach(cmd.Context(), c, args, func(rec *core.Record, st *driver.State, serr string) error {
				sec := viewDocker(rec, st, serr).Security
				out = append(out, inspection{Record: rec, State: viewState(st), StateError: serr, Security: &sec})
				return nil
			})
			if out == nil {
				out = []inspection{} // docker prints [] when nothing was found
			}
			{
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if err := enc.Encode(out); err != nil {
					return err
				}
			}
			return errs
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "Go template over docker's field names (.State.Status, .State.ExitCode, .Config.Cmd, .HostConfig.Privileged, ...) and rtd's .Record, .Security; json: the whole view")
	return cmd
}

// inspectFormatted prints each container through the template, as docker:
// the ones found are printed, each one not found is an error after them.
func inspectFormatted(cmd *cobra.Command, c *core.Core, args []string, format string) error {
	tmpl, _, err := parseFormat(format)
	if err != nil {
		return err
	}
	return inspectEach(cmd.Context(), c, args, func(rec *core.Record, st *driver.State, serr string) error {
		return execTemplateRaw(cmd.OutOrStdout(), tmpl, viewDocker(rec, st, serr))
	})
}

// inspectEach calls fn with the record and the driver's state (or what
// stopped the driver from answering) of each container refs names, in
// order; an error of fn ends it. Each ref that names no container is an
// error joined into the result, after what was found, as docker does.
func inspectEach(ctx context.Context, c *core.Core, refs []string, fn func(*core.Record, *driver.State, string) error) error {
	var errs []error
	for _, ref := range refs {
		rec, err := c.Lookup(ref)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		st, serr := stateOf(ctx, c, rec)
		if err := fn(rec, st, serr); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}
