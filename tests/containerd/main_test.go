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
	if os.Geteuid() != 0 {
		os.Exit(m.Run()) // each test skips with the reason
	}
	dir, err := os.MkdirTemp("", "rtd-cd-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	setupErr = setup()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// setup installs containerd and crictl (hack/containerd.sh, cached) and
// builds the shim and the drivers as `make build` does.
func setup() error {
	root, err := moduleRoot()
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
	for _, b := range []struct {
		out, pkg, cgo string
		flags         []string
	}{
		{"containerd-shim-rtd-v2", "./cmd/containerd-shim-rtd-v2", "0", nil},
		{"rtd-driver-linux", "./cmd/rtd-driver-linux", "1", []string{"-tags", "seccomp"}},
		{"rtd-linux-monitor", "./cmd/rtd-linux-monitor", "1", []string{"-tags", "seccomp"}},
		{"rtd-driver-gvisor", "./cmd/rtd-driver-gvisor", "0", nil},
		{"rtd-monitor", "./cmd/rtd-monitor", "0", nil},
		{"rtd-driver-vm", "./cmd/rtd-driver-vm", "0", nil},
		{"rtd-vm-agent", "./drivers/vm/cmd/rtd-vm-agent", "1", []string{"-tags", "seccomp,osusergo,netgo", "-ldflags", "-s -w"}},
		{"rtd-driver-windows", "./cmd/rtd-driver-windows", "0", nil},
	} {
		args := append([]string{"build"}, b.flags...)
		args = append(args, "-o", filepath.Join(binDir, b.out), b.pkg)
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+b.cgo)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		dir = parent
	}
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
