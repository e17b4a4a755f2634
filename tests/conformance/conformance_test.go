// Package conformance_test runs the conformance suite against every in-tree
// driver binary that can run on this machine, and against a lying driver
// that the suite must fail.
package conformance_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/rtd-project/rtd/conformance"
	"github.com/rtd-project/rtd/internal/testutil"
)

// binDir holds the binaries build makes (as root: every test needs root).
var binDir string

func TestMain(m *testing.M) {
	os.Exit(testutil.BinMain(m, "rtd-conformance-bin-", new(error), func(dir string) error {
		binDir = dir
		return nil
	}))
}

// buildMu serializes builds: the driver suites run in parallel and share
// the probe and the monitor binaries.
var buildMu sync.Mutex

// build compiles a package of this module into binDir, once.
func build(t *testing.T, name, pkg string, cgo bool, tags ...string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	return buildLocked(t, name, pkg, cgo, tags...)
}

func buildLocked(t *testing.T, name, pkg string, cgo bool, tags ...string) string {
	t.Helper()
	testutil.TrackSources(t)
	out := filepath.Join(binDir, name)
	if _, err := os.Stat(out); err == nil {
		return out
	}
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+map[bool]string{true: "1", false: "0"}[cgo])
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	if strings.HasPrefix(name, "rtd-driver-") {
		// The small monitor binary the Linux drivers' monitors re-execute
		// into, next to the driver as make build puts it.
		buildLocked(t, "rtd-monitor", "github.com/rtd-project/rtd/cmd/rtd-monitor", false)
	}
	if name == "rtd-driver-linux" {
		// The linux driver's monitor start half, as make build puts it.
		buildLocked(t, "rtd-linux-monitor", "github.com/rtd-project/rtd/cmd/rtd-linux-monitor", true, "seccomp")
	}
	return out
}

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the linux driver needs root")
	}
}

// runFilter lets a developer run some cases: RTD_CONFORMANCE_RUN=EXEC- go test ...
func runFilter() *regexp.Regexp {
	if re := os.Getenv("RTD_CONFORMANCE_RUN"); re != "" {
		return regexp.MustCompile(re)
	}
	return nil
}

func probe(t *testing.T) string {
	return build(t, "rtd-probe", "github.com/rtd-project/rtd/conformance/probe/cmd/rtd-probe", false)
}

// conforms runs the suite against cfg's driver with the probe and the
// RTD_CONFORMANCE_RUN filter, and fails for each case skipped for anything
// but an unclaimed capability.
func conforms(t *testing.T, cfg conformance.Config) {
	t.Helper()
	cfg.Probe, cfg.Run = probe(t), runFilter()
	rep := conformance.Run(t, cfg)
	for _, r := range rep.Results {
		if r.Result == conformance.Skip && r.Capability == "" {
			t.Errorf("%s skipped without a capability: %s", r.ID, r.Message)
		}
	}
}

func TestLinuxDriverConforms(t *testing.T) {
	needRoot(t)
	t.Parallel() // each driver suite has its own work dir, state dir and id prefix
	conforms(t, conformance.Config{
		Driver: build(t, "rtd-driver-linux", "github.com/rtd-project/rtd/cmd/rtd-driver-linux", true, "seccomp"),
	})
}

func TestLyingDriverFails(t *testing.T) {
	needRoot(t)
	rep, err := conformance.RunSuite(t.Context(), conformance.Config{
		Driver: build(t, "rtd-driver-liar", "github.com/rtd-project/rtd/tests/conformance/liar", true, "seccomp"),
		Probe:  probe(t),
		Run:    regexp.MustCompile(`^(EVENTS|PAUSE|INFO)-`),
	})
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]bool{}
	for _, r := range rep.Results {
		if r.Result == conformance.Fail {
			failed[r.ID] = true
		}
	}
	for _, id := range []string{"EVENTS-001", "PAUSE-001"} {
		if !failed[id] {
			t.Errorf("%s did not fail for a driver that claims it falsely (report: %s)", id, rep.Summary())
		}
	}
	if rep.OK() {
		t.Error("the suite passed a lying driver")
	}
}
