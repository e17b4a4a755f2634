package bench_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/internal/testutil"
)

// TestRunnerSmoke builds the binaries as make build and make bench do and
// runs `rtd-bench -smoke` (2 samples of everything): the runner must not
// rot, though the benchmarks themselves stay out of make test. Comparisons
// this host cannot make are skipped by the runner; any other failure fails.
func TestRunnerSmoke(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the runner starts containers")
	}
	testutil.TrackSources(t)
	bin := t.TempDir()
	bins := []testutil.Binary{testutil.Rtd, testutil.Shim, testutil.DriverWasm, testutil.DriverVM, testutil.VMAgent,
		{Name: "lcrun", Pkg: "./bench/cmd/lcrun", Cgo: true},
		{Name: "rtd-bench", Pkg: "./bench/cmd/rtd-bench"}}
	if err := testutil.BuildBinaries(bin, append(bins, testutil.LinuxDrivers...)...); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := exec.Command(filepath.Join(bin, "rtd-bench"), "-smoke", "-bin", bin, "-out", out)
	output, err := cmd.CombinedOutput()
	t.Logf("rtd-bench -smoke:\n%s", output)
	if err != nil {
		t.Fatalf("rtd-bench -smoke: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res bench.Results
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if len(res.Failed) > 0 {
		t.Fatalf("failed comparisons: %q", res.Failed)
	}
	for _, s := range res.Skipped {
		t.Logf("skipped: %s", s)
	}
	found := false
	for _, p := range res.Pairs {
		if p.N != 2 || p.MedianA <= 0 || p.MedianB <= 0 || p.Ratio <= 0 || len(p.SamplesA) != 2 {
			t.Errorf("pair %q: n=%d medians %v/%v ratio %v: want 2 samples of each side and positive medians", p.Name, p.N, p.MedianA, p.MedianB, p.Ratio)
		}
		found = found || p.Name == "linux: rtd run --rm vs runc run"
	}
	if !found {
		t.Errorf("no linux comparison with runc in results.json")
	}
	if md, err := os.ReadFile(filepath.Join(out, "results.md")); err != nil || !strings.Contains(string(md), "| linux: rtd run --rm vs runc run |") {
		t.Errorf("results.md lacks the linux comparison (err %v)", err)
	}
}
