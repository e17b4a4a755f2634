package core

import (
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/rtd-project/rtd/driver"
)

// LogOptions are docker's --log-opt keys that rtd's log keeps: which of
// the container's labels and environment variables `rtd logs --details`
// shows before each line (docker's json-file log driver's "attrs").
type LogOptions struct {
	Labels      []string       // labels=KEY,KEY
	Env         []string       // env=NAME,NAME
	LabelsRegex *regexp.Regexp // labels-regex=RE
	EnvRegex    *regexp.Regexp // env-regex=RE
}

// ParseLogOpts reads --log-opt KEY=VALUE values. Keys of docker's
// json-file driver that rtd's log does not have (rotation, tag) and
// unknown keys are InvalidArgument, as docker refuses an unknown one.
func ParseLogOpts(opts []string) (LogOptions, error) {
	var lo LogOptions
	for _, o := range opts {
		k, v, ok := strings.Cut(o, "=")
		if !ok || k == "" {
			return lo, driver.InvalidArgumentf("invalid --log-opt %q: want KEY=VALUE", o)
		}
		var err error
		switch k {
		case "labels":
			lo.Labels = splitList(v)
		case "env":
			lo.Env = splitList(v)
		case "labels-regex":
			lo.LabelsRegex, err = regexp.Compile(v)
		case "env-regex":
			lo.EnvRegex, err = regexp.Compile(v)
		case "max-size", "max-file", "compress", "tag":
			return lo, driver.InvalidArgumentf("log opt %q is not supported by rtd's log yet (it keeps labels, env, labels-regex, env-regex)", k)
		default:
			return lo, driver.InvalidArgumentf("unknown log opt %q: rtd's log takes labels, env, labels-regex, env-regex", k)
		}
		if err != nil {
			return lo, driver.InvalidArgumentf("invalid --log-opt %s: %v", k, err)
		}
	}
	return lo, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// attrs are the attributes o selects from a container's labels and
// environment (KEY=VALUE strings), as docker's json-file log driver
// picks them: named keys that are set, and keys a regexp matches.
func (o LogOptions) attrs(labels map[string]string, env []string) map[string]string {
	out := map[string]string{}
	for _, k := range o.Labels {
		if v, ok := labels[k]; ok {
			out[k] = v
		}
	}
	if o.LabelsRegex != nil {
		for k, v := range labels {
			if o.LabelsRegex.MatchString(k) {
				out[k] = v
			}
		}
	}
	envMap := map[string]string{}
	for _, e := range env {
		if k, v, ok := strings.Cut(e, "="); ok {
			envMap[k] = v
		}
	}
	for _, k := range o.Env {
		if v, ok := envMap[k]; ok {
			out[k] = v
		}
	}
	if o.EnvRegex != nil {
		for k, v := range envMap {
			if o.EnvRegex.MatchString(k) {
				out[k] = v
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// LogDetails is what `rtd logs --details` prints before each line of a
// container's log: its log attributes as docker prints them, sorted by
// key, query-escaped, joined by commas ("" when it has none).
func LogDetails(attrs map[string]string) string {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = url.QueryEscape(k) + "=" + url.QueryEscape(attrs[k])
	}
	return strings.Join(parts, ",")
}
