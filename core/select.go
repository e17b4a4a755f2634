package core

import (
	"context"
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/wasmbin"
)

// Selection says how to choose a container's driver.
type Selection struct {
	// Driver is a name or path the user gave; "" lets the policy choose.
	Driver string
	// Isolation is the minimum class the user asked for; "" for none.
	Isolation driver.IsolationClass
	// Labels of the container, matched against the policy's rules.
	Labels map[string]string
	Policy *Policy
	// Wasm says the workload is a WebAssembly module (WasmWorkload): only
	// drivers of the wasm class run it, and they run nothing else, so an
	// isolation requirement never routes a native program to them although
	// their class ranks above process.
	Wasm bool
}

// fits reports whether a driver of class can run the workload at all.
func (s Selection) fits(class driver.IsolationClass) bool {
	return (class == driver.IsolationWasm) == s.Wasm
}

// Choice is the driver chosen for a container.
type Choice struct {
	Binary DriverBinary
	// Class is the driver's isolation class when it had to be asked.
	Class driver.IsolationClass
	// Reason says why this driver: "named", "policy default", "--isolation vm".
	Reason string
}

// requirement is the strongest isolation asked for, and by whom.
type requirement struct {
	min driver.IsolationClass
	by  string
}

func (s Selection) requirement() requirement {
	var r requirement
	if s.Isolation != "" {
		r = requirement{min: s.Isolation, by: "--isolation " + string(s.Isolation)}
	}
	for _, rule := range s.Policy.Rules {
		if rule.Matches(s.Labels) && rule.MinIsolation.Rank() > r.min.Rank() {
			r = requirement{min: rule.MinIsolation, by: rule.Where(s.Policy) + " for label " + rule.Label}
		}
	}
	return r
}

// SelectDriver picks the driver for a container: the named one if the
// policy allows it and it isolates enough; else, with an isolation
// requirement, the weakest healthy allowed driver that meets it; else the
// policy's default for this OS. A refusal is FailedPrecondition and names
// the rule and the drivers that would satisfy it; nothing is created.
func (c *Core) SelectDriver(ctx context.Context, s Selection) (*Choice, error) {
	if s.Policy == nil {
		s.Policy = &Policy{}
	}
	req := s.requirement()
	name, reason := s.Driver, "named with --driver"
	if name == "" {
		if req.min != "" || s.Wasm {
			return c.selectByIsolation(ctx, s, req)
		}
		name, reason = s.Policy.DefaultDriverFor(), "default driver"
		if s.Policy.Path != "" && s.Policy.Defaults != nil {
			reason = "default driver of " + s.Policy.Path
		}
	}
	bin, err := c.FindDriver(name)
	if err != nil {
		return nil, err
	}
	if !s.Policy.IsAllowed(bin.Name) {
		return nil, driver.FailedPreconditionf("policy %s allows only drivers %s, not %q", s.Policy.Path, strings.Join(s.Policy.Allowed, ", "), bin.Name)
	}
	choice := &Choice{Binary: bin, Reason: reason}
	if req.min == "" {
		return choice, nil
	}
	info, err := c.driverFor(bin).Info(ctx)
	if err != nil {
		return nil, err
	}
	choice.Class = info.Isolation.Class
	if !info.Isolation.Class.AtLeast(req.min) {
		return nil, driver.FailedPreconditionf("refused driver %q (isolation %s): %s requires isolation %s or stronger; drivers that satisfy it: %s",
			bin.Name, info.Isolation.Class, req.by, req.min, c.satisfying(ctx, s, req.min))
	}
	return choice, nil
}

type candidate struct {
	bin  DriverBinary
	info *driver.Info
}

// candidates lists the allowed drivers with their Info (healthy or not).
func (c *Core) candidates(ctx context.Context, s Selection) []candidate {
	var out []candidate
	for _, bin := range c.ListDrivers() {
		if !s.Policy.IsAllowed(bin.Name) {
			continue
		}
		info, err := c.driverFor(bin).Info(ctx)
		if err != nil {
			continue
		}
		out = append(out, candidate{bin: bin, info: info})
	}
	return out
}

// satisfying names the healthy allowed drivers of at least class min.
func (c *Core) satisfying(ctx context.Context, s Selection, min driver.IsolationClass) string {
	var names []string
	for _, cand := range c.candidates(ctx, s) {
		if cand.info.Health.Ready && cand.info.Isolation.Class.AtLeast(min) && s.fits(cand.info.Isolation.Class) {
			names = append(names, fmt.Sprintf("%s (%s)", cand.bin.Name, cand.info.Isolation.Class))
		}
	}
	if len(names) == 0 {
		return "none on this machine"
	}
	return strings.Join(names, ", ")
}

// routable reports whether a requirement of class min may send a container
// to a driver of class c: a unikernel driver runs only workloads that
// declare a unikernel, so only an explicit "unikernel" requirement picks it,
// never "vm" or a policy minimum that it happens to meet.
func routable(c, min driver.IsolationClass) bool {
	return c != driver.IsolationUnikernel || min == driver.IsolationUnikernel
}

// selectByIsolation picks the weakest healthy allowed driver that meets the
// requirement (if any) and can run the workload (wasm or not): the cheapest
// that is strong enough. Ties go to the policy's default driver, then by
// name.
func (c *Core) selectByIsolation(ctx context.Context, s Selection, req requirement) (*Choice, error) {
	var ok []candidate
	var unhealthy []string
	if req.by == "" {
		req.by = "a WebAssembly workload"
	}
	for _, cand := range c.candidates(ctx, s) {
		if !cand.info.Isolation.Class.AtLeast(req.min) || !s.fits(cand.info.Isolation.Class) || !routable(cand.info.Isolation.Class, req.min) {
			continue
		}
		if !cand.info.Health.Ready {
			unhealthy = append(unhealthy, fmt.Sprintf("%s (%s)", cand.bin.Name, cand.info.Health.Reason))
			continue
		}
		ok = append(ok, cand)
	}
	if len(ok) == 0 {
		msg := fmt.Sprintf("no healthy driver meets %s (isolation %s or stronger)", req.by, req.min)
		if s.Wasm {
			msg = fmt.Sprintf("no healthy wasm driver meets %s: only drivers of the wasm class run WebAssembly modules", req.by)
			if req.min != "" {
				msg = fmt.Sprintf("no healthy wasm driver meets %s (isolation %s or stronger): only drivers of the wasm class run WebAssembly modules", req.by, req.min)
			}
		}
		if len(unhealthy) > 0 {
			msg += "; not ready: " + strings.Join(unhealthy, "; ")
		}
		return nil, driver.FailedPreconditionf("%s", msg)
	}
	def := s.Policy.DefaultDriverFor()
	sort.SliceStable(ok, func(i, j int) bool {
		ri, rj := ok[i].info.Isolation.Class.Rank(), ok[j].info.Isolation.Class.Rank()
		if ri != rj {
			return ri < rj
		}
		if (ok[i].bin.Name == def) != (ok[j].bin.Name == def) {
			return ok[i].bin.Name == def
		}
		return ok[i].bin.Name < ok[j].bin.Name
	})
	best := ok[0]
	return &Choice{Binary: best.bin, Class: best.info.Isolation.Class, Reason: req.by}, nil
}

// WasmWorkload reports whether spec runs a WebAssembly binary: its
// process.args[0] (runwasi's "path#export" allowed) names a file in the
// root filesystem that starts with the wasm magic. A program that cannot be
// found is not one.
func WasmWorkload(spec *specs.Spec) bool {
	if spec == nil || spec.Process == nil || len(spec.Process.Args) == 0 || spec.Root == nil {
		return false
	}
	p, err := wasmbin.Find(spec.Root.Path, spec.Process.Args[0], spec.Process.Cwd, spec.Process.Env)
	return err == nil && (p.Kind == wasmbin.Module || p.Kind == wasmbin.Component)
}
