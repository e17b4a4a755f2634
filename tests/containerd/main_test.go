//go:build linux

package containerd

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtd-project/rtd/internal/testutil"
)

var (
	// binDir holds the shim and the rtd drivers, built by TestMain.
	binDir string
	// cdBin holds containerd, ctr, containerd-shim-runc-v2 and crictl.
	cdBin    string
	setupErr error
)

func TestMain(m *testing.M) {
	os.Exit(testutil.BinMain(m, "rtd-cd-bin-", &setupErr, func(dir string) error {
		binDir = dir
		return setup()
	}))
}

// setup installs containerd and crictl (hack/containerd.sh, cached) and
// builds the shim and the drivers as `make build` does.
func setup() error {
	root, err := testutil.ModuleRoot()
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(root, "hack", "containerd.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("hack/containerd.sh: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	cdBin = lines[len(lines)-1]
	bins := append([]testutil.Binary{testutil.Shim}, testutil.LinuxDrivers...)
	bins = append(bins, testutil.VMDriverAndItsAgent...)
	bins = append(bins, testutil.DriverWasm)
	return testutil.BuildBinaries(binDir, append(bins, testutil.DriverWindows)...)
}

// need skips unless root, and fails when the setup failed.
func need(t *testing.T) {
	t.Helper()
	testutil.NeedRoot(t)
	testutil.TrackSources(t)
	if setupErr != nil {
		t.Fatalf("setup: %v", setupErr)
	}
}
