// Package conformance is rtd's driver conformance suite: a library of cases,
// each with an ID, a level (MUST or SHOULD), the capability it needs and the
// clause it checks, run against a driver binary through go-plugin exactly as
// the core runs it.
//
// Entry points: RunSuite (used by `rtd conformance`) and Run, for a driver
// author's own `go test`. The suite imports only the driver SDK, so an
// out-of-tree driver can be certified without forking rtd.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
)

// Level says how binding a case is.
type Level string

// Levels, as in RFC 2119.
const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
)

// Capability names an optional part of the contract a case needs.
type Capability string

// Capabilities a case can require; "" means the case always runs.
const (
	CapNone      Capability = ""
	CapExec      Capability = "exec"
	CapTerminal  Capability = "terminal"
	CapResizePty Capability = "resize_pty"
	CapCloseIO   Capability = "close_io"
	CapPause     Capability = "pause"
	CapStats     Capability = "stats"
	CapUpdate    Capability = "update"
	CapPids      Capability = "pids"
	CapEvents    Capability = "events"
	// CapNetworkNamespace: the driver joins the network namespace the
	// spec names by path.
	CapNetworkNamespace Capability = "network_namespace"
	// CapSandboxes: the sandbox methods and containers created in a sandbox.
	CapSandboxes Capability = "sandboxes"
)

// Case is one conformance check.
type Case struct {
	ID         string
	Level      Level
	Capability Capability
	// Clause is the sentence of the contract the case checks.
	Clause string
	// NotFor names the isolation classes the clause does not apply to (a
	// wasm module has no Linux process model to probe, a unikernel no exec):
	// on a driver of such a class the case is skipped with that reason, also
	// a MUST case. Empty means every class.
	NotFor []driver.IsolationClass
	// NotForWhy says, per class of NotFor, why the clause does not apply.
	NotForWhy map[driver.IsolationClass]string
	Run       func(ctx context.Context, s *Session) error
}

// Outcome of a case.
type Outcome string

// Outcomes.
const (
	Pass Outcome = "pass"
	Fail Outcome = "fail"
	Skip Outcome = "skip"
	// Warn is a failed SHOULD case: reported, but not a failure of the suite.
	Warn Outcome = "warn"
)

// Result is the outcome of one case.
type Result struct {
	ID         string        `json:"id"`
	Level      Level         `json:"level"`
	Capability Capability    `json:"capability,omitempty"`
	Clause     string        `json:"clause"`
	Result     Outcome       `json:"result"`
	Duration   time.Duration `json:"-"`
	DurationMS float64       `json:"duration_ms"`
	Message    string        `json:"message,omitempty"`
}

// Config says which driver to certify and how.
type Config struct {
	// Driver is the path of the driver binary.
	Driver string
	// Name labels the driver in logs and reports; default derived from Driver.
	Name string
	// Probe is a static probe binary (conformance/probe/cmd/rtd-probe built
	// with CGO_ENABLED=0; for a wasm driver, built with GOOS=wasip1
	// GOARCH=wasm). Empty: the suite builds it with `go build`.
	Probe string
	// Run selects cases by ID; nil runs all.
	Run *regexp.Regexp
	// Skip leaves out the cases whose ID it matches, as go test -skip: for
	// a known defect tracked elsewhere (they are not run or reported).
	Skip *regexp.Regexp
	// WorkDir holds rootfs, bundles, FIFOs and the driver's state; default a
	// new temporary directory, removed afterwards.
	WorkDir string
	// Env is added to the driver's environment.
	Env []string
	// ChurnCycles is the number of create/delete cycles of ROBUST-003 (default 200).
	ChurnCycles int
	// Annotations are added to the spec of every probe container: a driver
	// that runs only workloads that declare themselves (unikernel: urunc's
	// com.urunc.unikernel.* annotations) gets its declaration.
	Annotations map[string]string
	// CaseTimeout bounds one case (default 2 minutes).
	CaseTimeout time.Duration
	// Logger receives the driver's log lines; default discards them.
	Logger hclog.Logger
	// Progress receives one line per finished case; nil for none.
	Progress io.Writer
}

// Report is the outcome of a suite run.
type Report struct {
	Driver  string   `json:"driver"`
	Version string   `json:"version,omitempty"`
	Ready   bool     `json:"ready"`
	Health  string   `json:"health,omitempty"`
	Results []Result `json:"results"`
	Passed  int      `json:"passed"`
	Failed  int      `json:"failed"`
	Skipped int      `json:"skipped"`
	Warned  int      `json:"warned"`
}

// Summary is the closing line: "N passed, N failed, N skipped".
func (r *Report) Summary() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", r.Passed, r.Failed, r.Skipped)
}

// OK reports whether no case failed.
func (r *Report) OK() bool { return r.Failed == 0 }

// skipError marks a case as skipped with a reason.
type skipError struct{ reason string }

func (e skipError) Error() string { return e.reason }

func skipf(format string, args ...any) error { return skipError{fmt.Sprintf(format, args...)} }

// Cases returns the whole library, in run order.
func Cases() []Case {
	var all []Case
	for _, group := range [][]Case{
		infoCases(), lifecycleCases(), exitCases(), signalCases(), processCases(),
		stdioCases(), execCases(), fsCases(), mountCases(), resourceCases(), securityCases(),
		optionalCases(), eventsCases(), isolationCases(), networkCases(), sandboxCases(), robustnessCases(),
	} {
		all = append(all, group...)
	}
	for i := range all {
		if why, ok := wasmNotApplicable[all[i].ID]; ok {
			all[i].NotFor = append(all[i].NotFor, driver.IsolationWasm)
			if all[i].NotForWhy == nil {
				all[i].NotForWhy = map[driver.IsolationClass]string{}
			}
			all[i].NotForWhy[driver.IsolationWasm] = why
		}
	}
	return all
}

// RunSuite runs the selected cases against cfg.Driver and reports each.
// The suite cleans up after itself, also when ctx is cancelled.
func RunSuite(ctx context.Context, cfg Config) (*Report, error) {
	s, err := newSession(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	rep := &Report{Driver: s.name, Ready: s.info.Health.Ready, Health: s.info.Health.Reason, Version: s.info.Version}
	notReady := 0
	for _, c := range Cases() {
		if (cfg.Run != nil && !cfg.Run.MatchString(c.ID)) || (cfg.Skip != nil && cfg.Skip.MatchString(c.ID)) {
			continue
		}
		res := s.runCase(ctx, c)
		rep.add(res)
		if !rep.Ready && res.Result == Skip && !strings.HasPrefix(c.ID, "INFO-") {
			notReady++ // one line for all of them below
		} else if cfg.Progress != nil {
			fmt.Fprintln(cfg.Progress, formatRow(res))
		}
		if ctx.Err() != nil {
			break
		}
	}
	if notReady > 0 && cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "SKIP   %d more cases: driver not ready: %s\n", notReady, rep.Health)
	}
	return rep, ctx.Err()
}

func (r *Report) add(res Result) {
	r.Results = append(r.Results, res)
	switch res.Result {
	case Pass:
		r.Passed++
	case Fail:
		r.Failed++
	case Skip:
		r.Skipped++
	case Warn:
		r.Warned++
	}
}

// runCase runs one case with its timeout, decides skip/pass/fail and cleans
// up whatever the case left.
func (s *Session) runCase(ctx context.Context, c Case) (res Result) {
	res = Result{ID: c.ID, Level: c.Level, Capability: c.Capability, Clause: c.Clause}
	start := time.Now()
	defer func() {
		res.Duration = time.Since(start)
		res.DurationMS = float64(res.Duration.Microseconds()) / 1000
	}()
	if reason, ok := s.unclaimed(c.Capability); ok {
		res.Result, res.Message = Skip, reason
		return res
	}
	if class := s.info.Isolation.Class; slices.Contains(c.NotFor, class) {
		res.Result, res.Message = Skip, fmt.Sprintf("does not apply to the %s isolation class", class)
		if why := c.NotForWhy[class]; why != "" {
			res.Message += ": " + why
		}
		return res
	}
	if !s.info.Health.Ready && !strings.HasPrefix(c.ID, "INFO-") {
		res.Result, res.Message = Skip, "driver not ready: "+s.info.Health.Reason
		return res
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.CaseTimeout)
	err := s.protect(cctx, c)
	cancel()
	s.cleanupCase()
	var sk skipError
	switch {
	case err == nil:
		res.Result = Pass
	case errors.As(err, &sk) && c.Level != Must:
		res.Result, res.Message = Skip, sk.reason
	case errors.As(err, &sk):
		res.Result, res.Message = Fail, "MUST case cannot be skipped: "+sk.reason
	case c.Level == Should:
		res.Result, res.Message = Warn, err.Error()
	default:
		res.Result, res.Message = Fail, err.Error()
	}
	return res
}

// protect runs a case, turning a panic into a failure and a dead driver into
// a failure that names it (the next case gets a fresh driver process).
func (s *Session) protect(ctx context.Context, c Case) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
		if s.proc.Exited() {
			lines := s.proc.LastLogLines()
			if err == nil {
				err = fmt.Errorf("driver process exited during the case")
			}
			err = fmt.Errorf("%w (driver exited; last log lines: %v)", err, lines)
			if rerr := s.relaunch(ctx); rerr != nil {
				err = fmt.Errorf("%w; relaunch failed: %v", err, rerr)
			}
		}
	}()
	return c.Run(ctx, s)
}
