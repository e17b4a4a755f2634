package core

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// DefaultPolicyPath is where rtd reads its policy when none is named.
const DefaultPolicyPath = "/etc/rtd/policy.toml"

// PolicyEnv names the environment variable that overrides DefaultPolicyPath.
const PolicyEnv = "RTD_POLICY"

// Policy is what a distro vendor or a security team sets for a machine:
// the default driver per OS, the drivers allowed, the minimum isolation
// per label and whether OCI hooks may run. The zero Policy allows
// everything (hooks run, as in runc).
//
//	allowed = ["linux", "gvisor", "vm"]   # top-level keys come before tables
//	hooks = "allow"               # "deny": no bundle with OCI hooks runs
//
//	[defaults]                    # default driver per OS (runtime.GOOS)
//	linux = "linux"
//
//	[[rule]]
//	name = "untrusted-code"
//	label = "trust=untrusted"     # KEY=VALUE, or KEY for any value
//	min_isolation = "sandbox"     # process, wasm, sandbox, vm, unikernel
//	hooks = "deny"                # bundles with OCI hooks refused for the label
type Policy struct {
	// Path is the file it came from ("" for none).
	Path     string
	Defaults map[string]string
	Allowed  []string
	Rules    []Rule
	// DenyHooks refuses every bundle with OCI hooks (hooks = "deny").
	DenyHooks bool

	lines map[string]int // where a value first appears, for messages
}

// Rule requires a minimum isolation class for containers carrying a label,
// and can refuse OCI hooks for them.
type Rule struct {
	Name         string
	Label        string
	MinIsolation driver.IsolationClass
	// DenyHooks refuses bundles with OCI hooks for the label.
	DenyHooks bool
	line      int
}

// Where names the rule and its place in the policy file.
func (r Rule) Where(p *Policy) string {
	if p.Path == "" {
		return fmt.Sprintf("rule %q", r.Name)
	}
	return fmt.Sprintf("rule %q (%s:%d)", r.Name, p.Path, r.line)
}

// Matches reports whether labels carry the rule's label.
func (r Rule) Matches(labels map[string]string) bool {
	k, v, hasValue := strings.Cut(r.Label, "=")
	got, ok := labels[k]
	return ok && (!hasValue || got == v)
}

type policyFile struct {
	Defaults map[string]string `toml:"defaults"`
	Allowed  []string          `toml:"allowed"`
	Hooks    string            `toml:"hooks"`
	Rule     []struct {
		Name         string `toml:"name"`
		Label        string `toml:"label"`
		MinIsolation string `toml:"min_isolation"`
		Hooks        string `toml:"hooks"`
	} `toml:"rule"`
}

// LoadPolicy reads a policy file. A missing file is an empty policy when
// explicit is false (the default path), an error otherwise. knownDrivers,
// when not nil, are the driver names a policy may mention.
func LoadPolicy(path string, explicit bool, knownDrivers []string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !explicit {
			return &Policy{}, nil
		}
		return nil, driver.InvalidArgumentf("policy %s: %v", path, err)
	}
	var f policyFile
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, driver.InvalidArgumentf("policy %s:%d: %s", path, perr.Position.Line, perr.Message)
		}
		return nil, driver.InvalidArgumentf("policy %s: %v", path, err)
	}
	p := &Policy{Path: path, Defaults: f.Defaults, Allowed: f.Allowed, lines: map[string]int{}}
	bad := func(value, format string, args ...any) error {
		return driver.InvalidArgumentf("policy %s:%d: %s", path, lineOf(data, value), fmt.Sprintf(format, args...))
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		key := undecoded[0].String()
		last := undecoded[0][len(undecoded[0])-1]
		return nil, bad(last, "unknown key %q (want defaults, allowed, hooks, [[rule]] with name, label, min_isolation, hooks)", key)
	}
	checkDriver := func(name, where string) error {
		if knownDrivers != nil && !slices.Contains(knownDrivers, name) {
			return bad(`"`+name+`"`, "unknown driver %q in %s (drivers found: %s)", name, where, strings.Join(knownDrivers, ", "))
		}
		return nil
	}
	for osName, d := range f.Defaults {
		if err := checkDriver(d, "defaults."+osName); err != nil {
			return nil, err
		}
	}
	for _, d := range f.Allowed {
		if err := checkDriver(d, "allowed"); err != nil {
			return nil, err
		}
	}
	parseHooks := func(v, where string) (bool, error) {
		switch v {
		case "", "allow":
			return false, nil
		case "deny":
			return true, nil
		}
		return false, bad(`"`+v+`"`, "%s: hooks = %q: want \"allow\" or \"deny\"", where, v)
	}
	if p.DenyHooks, err = parseHooks(f.Hooks, "hooks"); err != nil {
		return nil, err
	}
	for i, r := range f.Rule {
		if r.Name == "" {
			r.Name = fmt.Sprintf("rule %d", i+1)
		}
		if r.Label == "" {
			return nil, bad("[[rule]]", "%s has no label", r.Name)
		}
		class, err := driver.ParseIsolationClass(r.MinIsolation)
		if err != nil {
			return nil, bad(`"`+r.MinIsolation+`"`, "%s: unknown isolation class %q (want process, wasm, sandbox, vm or unikernel)", r.Name, r.MinIsolation)
		}
		deny, err := parseHooks(r.Hooks, r.Name)
		if err != nil {
			return nil, err
		}
		p.Rules = append(p.Rules, Rule{Name: r.Name, Label: r.Label, MinIsolation: class, DenyHooks: deny, line: lineOf(data, `"`+r.Name+`"`)})
	}
	return p, nil
}

// lineOf finds the first line of data holding s (1 if none).
func lineOf(data []byte, s string) int {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 1
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}

// DefaultDriverFor returns the policy's default driver for this OS, or
// DefaultDriver.
func (p *Policy) DefaultDriverFor() string {
	if d := p.Defaults[runtime.GOOS]; d != "" {
		return d
	}
	return DefaultDriver
}

// IsAllowed reports whether the policy allows a driver.
func (p *Policy) IsAllowed(name string) bool {
	return len(p.Allowed) == 0 || slices.Contains(p.Allowed, name)
}

// CheckHooks refuses a spec with OCI hooks when the policy denies them,
// for every container or for one carrying labels a rule matches: hooks run
// on the host, as root, outside any sandbox the driver builds. The refusal
// is FailedPrecondition and names the rule; nil means allowed.
func (p *Policy) CheckHooks(spec *specs.Spec, labels map[string]string) error {
	kinds := hookKinds(spec.Hooks)
	if p == nil || len(kinds) == 0 {
		return nil
	}
	which := ""
	if p.DenyHooks {
		which = fmt.Sprintf("policy %s (hooks = \"deny\")", p.Path)
	}
	for _, r := range p.Rules {
		if which == "" && r.DenyHooks && r.Matches(labels) {
			which = r.Where(p) + " for label " + r.Label
		}
	}
	if which == "" {
		return nil
	}
	return driver.FailedPreconditionf("refused OCI hooks (%s): %s denies hooks, which run on the host as root outside the container's isolation; remove them from the bundle's config.json", strings.Join(kinds, ", "), which)
}

// hookKinds names the kinds of hooks a spec has.
func hookKinds(h *specs.Hooks) []string {
	if h == nil {
		return nil
	}
	var kinds []string
	for _, k := range []struct {
		name  string
		hooks []specs.Hook
	}{
		{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer}, {"poststart", h.Poststart}, {"poststop", h.Poststop},
	} {
		if len(k.hooks) > 0 {
			kinds = append(kinds, k.name)
		}
	}
	return kinds
}
