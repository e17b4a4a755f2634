package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// psRow is one container as ps shows it; its fields are docker's --format
// names (.ID, .Names, .Image, .Command, .Status, .State, .CreatedAt,
// .RunningFor, .Labels, .Ports) plus rtd's .Driver.
type psRow struct {
	ID, Names, Image, Command string
	Status                    string
	State                     string // created, running, paused, exited, unknown
	CreatedAt                 string
	RunningFor                string
	Driver                    string
	Labels                    string
	Ports                     string
	labels                    map[string]string
	exitCode                  int // -1 while not exited
}

// Label returns the value of label k (docker's {{.Label "k"}}).
func (r psRow) Label(k string) string { return r.labels[k] }

func newPsRow(rec *core.Record, status string, st *driver.State, noTrunc bool) psRow {
	name := rec.Name
	if name == "" {
		name = "-"
	}
	command := quoteCommand(rec.Command)
	if !noTrunc {
		command = shorten(command, 30)
	}
	r := psRow{
		ID: rec.ID, Names: name, Image: rec.Image, Command: command, Status: status, State: "unknown",
		CreatedAt: rec.Created.Local().Format("2006-01-02 15:04:05 -0700 MST"), RunningFor: ago(rec.Created),
		Driver: rec.Driver, labels: rec.Labels, exitCode: -1,
	}
	var labels []string
	for k, v := range rec.Labels {
		labels = append(labels, k+"="+v)
	}
	r.Labels = strings.Join(labels, ",")
	if rec.Network != nil {
		r.Ports = portsColumn(rec.Network.Ports)
	}
	if st != nil {
		r.State = string(st.Status)
		if st.Status == driver.StatusStopped {
			r.State = "exited"
			if st.Exit != nil {
				r.exitCode = int(st.Exit.Code)
			}
		}
	}
	return r
}

// psFilter is one --filter KEY=VALUE of ps: id, name, label (KEY or
// KEY=VALUE), status, exited, driver, ancestor (the image).
type psFilter struct{ key, value string }

func parsePsFilters(values []string) ([]psFilter, error) {
	var out []psFilter
	for _, f := range values {
		k, v, ok := strings.Cut(f, "=")
		switch {
		case !ok:
			return nil, usageError(fmt.Errorf("invalid --filter %q: want KEY=VALUE", f))
		case k == "status" && !contains([]string{"created", "running", "paused", "exited", "unknown", "restarting", "removing", "dead"}, v):
			return nil, usageError(fmt.Errorf("invalid --filter %q: status is created, running, paused, exited or unknown", f))
		case k == "exited":
			if _, err := strconv.Atoi(v); err != nil {
				return nil, usageError(fmt.Errorf("invalid --filter %q: exited takes an exit code", f))
			}
		case !contains([]string{"id", "name", "label", "status", "exited", "driver", "ancestor"}, k):
			return nil, usageError(fmt.Errorf("invalid --filter %q: rtd filters by id, name, label, status, exited, driver, ancestor", f))
		}
		out = append(out, psFilter{k, v})
	}
	return out, nil
}

// matchPsFilters applies docker's rule: values of the same key are
// alternatives (OR), different keys must all match (AND).
func matchPsFilters(r psRow, filters []psFilter) bool {
	byKey := map[string][]string{}
	for _, f := range filters {
		byKey[f.key] = append(byKey[f.key], f.value)
	}
	for key, values := range byKey {
		ok := false
		for _, v := range values {
			if matchPsFilter(r, key, v) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func matchPsFilter(r psRow, key, v string) bool {
	switch key {
	case "id":
		return strings.HasPrefix(r.ID, v)
	case "name":
		return strings.Contains(r.Names, v) || strings.Contains(r.ID, v)
	case "label":
		k, val, hasVal := strings.Cut(v, "=")
		got, ok := r.labels[k]
		return ok && (!hasVal || got == val)
	case "status":
		return r.State == v
	case "exited":
		n, _ := strconv.Atoi(v)
		return r.exitCode == n
	case "driver":
		return r.Driver == v
	case "ancestor":
		return r.Image == v
	}
	return false
}
