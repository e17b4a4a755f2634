package conformance_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtd-project/rtd/conformance"
)

// wasmProbe builds the probe as a WebAssembly module for wasip1.
func wasmProbe(t *testing.T) string {
	t.Helper()
	out := filepath.Join(binDir, "rtd-probe.wasm")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	cmd := exec.Command("go", "build", "-o", out, "github.com/rtd-project/rtd/conformance/probe/cmd/rtd-probe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the wasip1 probe: %v\n%s", err, b)
	}
	return out
}

// Every case that applies to the wasm class runs against the wasip1 probe
// and passes; the others are skipped for an unclaimed capability or with
// the reason their clause does not apply to wasm, never for anything else.
func TestWasmDriverConforms(t *testing.T) {
	needRoot(t)
	t.Parallel()
	rep := conformance.Run(t, conformance.Config{
		Driver:      build(t, "rtd-driver-wasm", "github.com/rtd-project/rtd/cmd/rtd-driver-wasm", false),
		Probe:       wasmProbe(t),
		ChurnCycles: 40,
		Run:         runFilter(),
	})
	ran := 0
	for _, r := range rep.Results {
		switch {
		case r.Result == conformance.Pass:
			ran++
		case r.Result == conformance.Skip && r.Capability == "" && !strings.Contains(r.Message, "does not apply to the wasm isolation class: "):
			t.Errorf("%s skipped without a capability or a wasm reason: %s", r.ID, r.Message)
		}
	}
	if runFilter() == nil && ran < 30 {
		t.Errorf("only %d cases passed: most of the suite must apply to wasm", ran)
	}
}
