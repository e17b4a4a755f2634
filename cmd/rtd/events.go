package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/containerd/errdefs"
	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// dockerEventNames maps the contract's event types to docker's actions.
var dockerEventNames = map[driver.EventType]string{
	driver.EventCreate: "create", driver.EventStart: "start", driver.EventExec: "exec_start",
	driver.EventOOM: "oom", driver.EventPause: "pause", driver.EventResume: "unpause",
	driver.EventExit: "die", driver.EventDelete: "destroy",
}

// eventView is one event as events prints it; its fields are docker's
// --format names (.Type, .Action, .Actor.ID, .Time, .TimeNano) plus .Driver.
type eventView struct {
	Type     string
	Action   string
	ID       string
	Actor    eventActor
	Time     int64
	TimeNano int64
	Driver   string
	ExitCode *uint32 `json:",omitempty"`
	when     time.Time
}

type eventActor struct {
	ID         string
	Attributes map[string]string
}

func newEventsCommand(a *app) *cobra.Command {
	var since, until, format string
	var filters []string
	cmd := &cobra.Command{
		Use:   "events [--since T] [--until T] [--filter container=X|event=Y|driver=Z] [--format TEMPLATE]",
		Short: "Stream container events (create, start, die, oom, pause, unpause, destroy, exec_start) of the drivers in use",
		Args:  argsExactly(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			req := &driver.EventsRequest{}
			var err error
			if since != "" {
				if req.Since, err = parseEventTime(since, now); err != nil {
					return err
				}
			}
			var end time.Time
			if until != "" {
				if end, err = parseEventTime(until, now); err != nil {
					return err
				}
			}
			match, err := eventFilter(filters)
			if err != nil {
				return err
			}
			var tmpl *template.Template
			if format != "" {
				if tmpl, _, err = parseFormat(format); err != nil {
					return err
				}
			}
			c, err := a.Core()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if !end.IsZero() {
				// An end already past still lets the replay through.
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, later(end, time.Now().Add(time.Second)))
				defer cancel()
			}
			return streamEvents(ctx, c, req, match, func(v eventView) error {
				if !end.IsZero() && v.when.After(end) {
					return nil
				}
				return printEvent(cmd.OutOrStdout(), tmpl, v)
			})
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "replay events since a time (RFC 3339, Unix seconds, or a duration such as 10m)")
	cmd.Flags().StringVar(&until, "until", "", "stop at a time (same forms); without it, stream until interrupted")
	cmd.Flags().StringArrayVarP(&filters, "filter", "f", nil, "container=NAME|ID, event=ACTION (docker's names), driver=NAME")
	cmd.Flags().StringVar(&format, "format", "", "Go template over .Type, .Action, .ID, .Actor.ID, .Actor.Attributes, .Time, .TimeNano, .Driver; json")
	return cmd
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// parseEventTime reads docker's --since/--until forms (parseTimeArg).
func parseEventTime(s string, now time.Time) (time.Time, error) { return parseTimeArg(s, now) }

func eventFilter(values []string) (func(eventView, *core.Core) bool, error) {
	by := map[string][]string{}
	for _, f := range values {
		k, v, ok := strings.Cut(f, "=")
		if !ok || (k != "container" && k != "event" && k != "driver" && k != "type") {
			return nil, usageError(fmt.Errorf("invalid --filter %q: events filters by container=, event=, driver=", f))
		}
		by[k] = append(by[k], v)
	}
	return func(v eventView, c *core.Core) bool {
		if cs := by["container"]; len(cs) > 0 && !contains(cs, v.ID) && !contains(cs, v.Actor.Attributes["name"]) {
			return false
		}
		if es := by["event"]; len(es) > 0 && !contains(es, v.Action) {
			return false
		}
		if ds := by["driver"]; len(ds) > 0 && !contains(ds, v.Driver) {
			return false
		}
		if ts := by["type"]; len(ts) > 0 && !contains(ts, v.Type) {
			return false
		}
		return true
	}, nil
}

// streamEvents streams the events of every driver that has state under
// rtd's root (the drivers in use), merged, until ctx is done.
func streamEvents(ctx context.Context, c *core.Core, req *driver.EventsRequest, match func(eventView, *core.Core) bool, fn func(eventView) error) error {
	names, err := os.ReadDir(c.DriverStateDir(""))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	drivers := []string{core.DefaultDriver}
	for _, n := range names {
		if n.IsDir() && n.Name() != core.DefaultDriver {
			drivers = append(drivers, n.Name())
		}
	}
	sort.Strings(drivers[1:])
	var mu sync.Mutex
	var wg sync.WaitGroup
	errc := make(chan error, len(drivers))
	for _, name := range drivers {
		d, err := c.Driver(ctx, name)
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := d.Events(ctx, req, func(ev *driver.Event) error {
				v := viewEvent(c, name, ev)
				if !match(v, c) {
					return nil
				}
				mu.Lock()
				defer mu.Unlock()
				return fn(v)
			})
			if err != nil && !errdefs.IsNotImplemented(err) && ctx.Err() == nil {
				errc <- fmt.Errorf("events of driver %s: %w", name, err)
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func viewEvent(c *core.Core, drv string, ev *driver.Event) eventView {
	action := dockerEventNames[ev.Type]
	if action == "" {
		action = string(ev.Type)
	}
	if ev.Type == driver.EventExit && ev.ExecID != "" {
		action = "exec_die"
	}
	attrs := map[string]string{"driver": drv}
	if rec, err := c.LoadRecord(ev.ID); err == nil && rec.Name != "" {
		attrs["name"] = rec.Name
	}
	if ev.ExecID != "" {
		attrs["execID"] = ev.ExecID
	}
	v := eventView{Type: "container", Action: action, ID: ev.ID, Actor: eventActor{ID: ev.ID, Attributes: attrs},
		Time: ev.Timestamp.Unix(), TimeNano: ev.Timestamp.UnixNano(), Driver: drv, when: ev.Timestamp}
	if ev.Exit != nil && ev.Type == driver.EventExit {
		code := ev.Exit.Code
		v.ExitCode = &code
		attrs["exitCode"] = fmt.Sprint(code)
	}
	return v
}

// printEvent prints docker's line: TIME container ACTION ID (k=v, ...).
func printEvent(w io.Writer, tmpl *template.Template, v eventView) error {
	if tmpl != nil {
		return execTemplate(w, tmpl, v)
	}
	keys := make([]string, 0, len(v.Actor.Attributes))
	for k := range v.Actor.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]string, len(keys))
	for i, k := range keys {
		attrs[i] = k + "=" + v.Actor.Attributes[k]
	}
	_, err := fmt.Fprintf(w, "%s %s %s %s (%s)\n", v.when.Local().Format("2006-01-02T15:04:05.000000000-07:00"), v.Type, v.Action, v.ID, strings.Join(attrs, ", "))
	return err
}
