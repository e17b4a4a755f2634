//go:build linux

package runc

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtd-project/rtd/internal/testutil"
)

// runtimeToolsSubset are the runtime-tools executables make test runs
// against runc and rtd-runc (a few seconds each): lifecycle, state, kill,
// delete, the pid file, hooks, the default config checked from inside the
// container by runtimetest, mounts, devices and rlimits (each once a
// difference from runc on the linux driver). RTD_RUNTIME_TOOLS=all runs
// every one (make runtime-tools).
var runtimeToolsSubset = []string{
	"create", "delete", "kill", "killsig", "kill_no_effect", "start", "state", "pidfile",
	"default", "hostname", "process", "mounts", "linux_masked_paths", "linux_readonly_paths",
	"linux_ns_nopath", "prestart", "poststart", "poststop", "process_rlimits", "linux_devices",
}

// knownDiffs are runtime-tools points (or whole executables, "x.t") runc
// passes here and rtd-runc on the linux driver does not, each with its
// cause (docs/runc.md). A point listed here that passes fails the test, so
// that the list stays true.
var knownDiffs = map[string]string{
	// pidfile checks that state's pid is the pid file's. rtd-runc's pid
	// file names the stand-in, the process the engines' subreapers wait on
	// and reap (the workload is the driver's monitor's child, never
	// theirs), and state the workload's host pid, which runtime-tools'
	// namespace, cgroup and hooks checks read /proc/PID of (runsc's state
	// names its sandbox process instead: those checks then see the
	// sandbox). Debian's runc passes the point only when its `true` is
	// still running at the suite's first state poll after start; else its
	// kill answers "container not running", and so would rtd-runc's.
	"pidfile.t create with '--pid-file' option works": "the pid file names rtd-runc's stand-in (the process callers wait on), state the workload's pid",
}

// knownDiff returns the cause when point key is a known difference.
func knownDiff(key string) (string, bool) {
	if why, ok := knownDiffs[key]; ok {
		return why, true
	}
	exe, _, _ := strings.Cut(key, " ")
	why, ok := knownDiffs[exe]
	return why, ok
}

// suiteRun is one runtime's results.
type suiteRun struct {
	name  string
	cases map[string]tapResult
	order []string
	// notes are why an executable gave no TAP (its exit and stderr),
	// kept apart from the key so that two runtimes' keys compare.
	notes map[string]string
}

func (s *suiteRun) count(r tapResult) int {
	n := 0
	for _, v := range s.cases {
		if v == r {
			n++
		}
	}
	return n
}

func (s *suiteRun) summary() string {
	return fmt.Sprintf("%s: %d pass, %d fail, %d skip of %d", s.name, s.count(tapPass), s.count(tapFail), s.count(tapSkip), len(s.cases))
}

// runtimeToolsDir installs the suite (hack/runtime-tools.sh, cached) and
// returns its directory.
func runtimeToolsDir(t *testing.T) string {
	t.Helper()
	root, err := testutil.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, "hack", "runtime-tools.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/runtime-tools.sh: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// hostGlobal serializes, across the runtimes run side by side, the
// executables that use fixed host-global names: the cgroup tests and
// delete_resources all put their container in cgroup /cgrouptest (or
// cgrouptest relative to the runtime's parent), so two runtimes at once
// would meet in it ("container's cgroup is not empty").
var hostGlobal sync.Mutex

func usesHostGlobals(exe string) bool {
	return strings.HasPrefix(exe, "linux_cgroups_") || exe == "delete_resources"
}

// runSuite runs exes of the suite in dir against the runtime binary bin.
func runSuite(t *testing.T, dir, name, bin string, env []string, exes []string) *suiteRun {
	s := &suiteRun{name: name, cases: map[string]tapResult{}, notes: map[string]string{}}
	for _, exe := range exes {
		if usesHostGlobals(exe) {
			hostGlobal.Lock()
		}
		path := filepath.Join(dir, "validation", exe, exe+".t")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		cmd := exec.CommandContext(ctx, path)
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), "RUNTIME="+bin), env...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		cancel()
		if usesHostGlobals(exe) {
			hostGlobal.Unlock()
		}
		if tapDir := os.Getenv("RTD_RUNTIME_TOOLS_TAPDIR"); tapDir != "" {
			// The raw TAP of each executable, kept as it comes (make runtime-tools).
			d := filepath.Join(tapDir, strings.NewReplacer(" ", "", "(", "-", ")", "").Replace(name))
			if err := os.MkdirAll(d, 0o755); err == nil {
				_ = os.WriteFile(filepath.Join(d, exe+".tap"), out.Bytes(), 0o644)
			}
		}
		cases := parseTAP(exe+".t", bytes.NewReader(out.Bytes()))
		if len(cases) == 0 {
			key := exe + ".t (no TAP output)"
			s.notes[key] = fmt.Sprintf("%v: %s", err, strings.ReplaceAll(short(errb.String()), "\n", " "))
			cases = []tapCase{{Key: key, Result: tapFail}}
		}
		t.Logf("%s: %s done (%d points so far)", name, exe, len(s.cases)+len(cases))
		for _, c := range cases {
			if _, dup := s.cases[c.Key]; !dup {
				s.order = append(s.order, c.Key)
			}
			s.cases[c.Key] = c.Result
		}
	}
	return s
}

func short(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// TestRuntimeTools runs OCI runtime-tools' validation executables against
// Debian's runc and rtd-runc on the linux driver side by side: every point
// runc passes here must pass on rtd-runc, except knownDiffs. With
// RTD_RUNTIME_TOOLS_DRIVERS=gvisor,vm those drivers are run too and only
// reported; RTD_RUNTIME_TOOLS_REPORT=FILE writes the comparison as
// markdown.
func TestRuntimeTools(t *testing.T) {
	need(t)
	runcBin, err := exec.LookPath("runc")
	if err != nil {
		t.Fatalf("runc not found: make deps installs Debian's runc, the reference of this test")
	}
	dir := runtimeToolsDir(t)
	exes := runtimeToolsSubset
	if os.Getenv("RTD_RUNTIME_TOOLS") == "all" {
		exes = nil
		ents, err := os.ReadDir(filepath.Join(dir, "validation"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if _, err := os.Stat(filepath.Join(dir, "validation", e.Name(), e.Name()+".t")); err == nil {
				exes = append(exes, e.Name())
			}
		}
	}
	drivers := []string{"linux"}
	if extra := os.Getenv("RTD_RUNTIME_TOOLS_DRIVERS"); extra != "" {
		drivers = append(drivers, strings.Split(extra, ",")...)
	}
	// Runtimes at once (the suite mostly waits: it polls state once a
	// second), in two phases: runc beside the gated linux driver, then the
	// reported ones, whose leftovers cannot disturb the gated results (a
	// gVisor sandbox whose created container was deleted stays in the
	// tests' cgroup).
	runs := make([]*suiteRun, 1+len(drivers))
	var wg sync.WaitGroup
	run := func(i int, drv string) {
		defer wg.Done()
		root := filepath.Join(t.TempDir(), "root")
		env := []string{"RTD_RUNC_ROOT=" + root, "RTD_DRIVER=" + drv}
		runs[1+i] = runSuite(t, dir, "rtd-runc ("+drv+")", rtdRunc(), env, exes)
		// What a failed case left (the suite deletes only on success paths).
		out, _ := exec.Command(rtdRunc(), "--root", root, "list", "-q").Output()
		for _, id := range strings.Fields(string(out)) {
			cmd := exec.Command(rtdRunc(), "--root", root, "delete", "--force", id)
			cmd.Env = append(os.Environ(), env...)
			_ = cmd.Run()
		}
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		runs[0] = runSuite(t, dir, "runc", runcBin, []string{"XDG_RUNTIME_DIR="}, exes)
	}()
	go run(0, drivers[0])
	wg.Wait()
	wg.Add(len(drivers) - 1)
	for i, drv := range drivers[1:] {
		go run(1+i, drv)
	}
	wg.Wait()
	for _, r := range runs {
		t.Log(r.summary())
	}
	compareWithRunc(t, runs[0], runs[1])
	if path := os.Getenv("RTD_RUNTIME_TOOLS_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(report(runs, exes)), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// report is the comparison as markdown: counts per runtime, then every
// point whose result differs from runc's.
func report(runs []*suiteRun, exes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "runtime-tools executables: %s\n\n| runtime | pass | fail | skip | total |\n|---|---|---|---|---|\n", strings.Join(exes, " "))
	for _, r := range runs {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d |\n", r.name, r.count(tapPass), r.count(tapFail), r.count(tapSkip), len(r.cases))
	}
	ref := runs[0]
	for _, r := range runs[1:] {
		fmt.Fprintf(&b, "\n%s, points whose result differs from runc's:\n\n", r.name)
		var keys []string
		for k := range unionKeys(ref, r) {
			if ref.cases[k] != r.cases[k] {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "- `%s`: runc %s%s, %s%s\n", k, orNone(ref.cases[k]), note(ref, k), orNone(r.cases[k]), note(r, k))
		}
	}
	return b.String()
}

func unionKeys(a, b *suiteRun) map[string]bool {
	m := map[string]bool{}
	for k := range a.cases {
		m[k] = true
	}
	for k := range b.cases {
		m[k] = true
	}
	return m
}

func note(s *suiteRun, key string) string {
	if n := s.notes[key]; n != "" {
		return " (" + n + ")"
	}
	return ""
}

func orNone(r tapResult) string {
	if r == "" {
		return "absent"
	}
	return string(r)
}

// compareWithRunc fails for each point runc (ref) passes and rtd-runc on
// the linux driver (rtd) does not, unless knownDiffs lists it, and for each
// listed point that passes now.
func compareWithRunc(t *testing.T, ref, rtd *suiteRun) {
	var lost, fixed []string
	for _, k := range ref.order {
		if ref.cases[k] != tapPass {
			continue
		}
		_, known := knownDiff(k)
		switch {
		case rtd.cases[k] != tapPass && !known:
			lost = append(lost, k+" ("+string(rtd.cases[k])+")")
		case rtd.cases[k] == tapPass && known && knownDiffs[k] != "":
			fixed = append(fixed, k)
		}
	}
	for _, k := range lost {
		t.Errorf("runc passes, rtd-runc (linux) does not: %s", k)
	}
	for _, k := range fixed {
		t.Errorf("listed in knownDiffs but passes now (remove it): %s", k)
	}
}
