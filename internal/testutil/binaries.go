package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Binary is one of rtd's commands as `make build` builds it, for test
// packages that run the real binaries (tests/e2e, tests/runc,
// tests/containerd).
type Binary struct {
	// Name is the output file.
	Name string
	// Pkg is the package, relative to the module root ("./cmd/rtd").
	Pkg string
	// Cgo builds with CGO_ENABLED=1 (default 0: static binaries).
	Cgo bool
	// Flags go to go build before -o ("-tags", "seccomp").
	Flags []string
	// Env is added to go build's environment ("GOOS=wasip1").
	Env []string
}

// The binaries the tests build, with the flags of the Makefile.
var (
	Rtd                 = Binary{Name: "rtd", Pkg: "./cmd/rtd"}
	RtdRunc             = Binary{Name: "rtd-runc", Pkg: "./cmd/rtd-runc"}
	Shim                = Binary{Name: "containerd-shim-rtd-v2", Pkg: "./cmd/containerd-shim-rtd-v2"}
	DriverLinux         = Binary{Name: "rtd-driver-linux", Pkg: "./cmd/rtd-driver-linux", Cgo: true, Flags: []string{"-tags", "seccomp"}}
	LinuxMonitor        = Binary{Name: "rtd-linux-monitor", Pkg: "./cmd/rtd-linux-monitor", Cgo: true, Flags: []string{"-tags", "seccomp"}}
	DriverGvisor        = Binary{Name: "rtd-driver-gvisor", Pkg: "./cmd/rtd-driver-gvisor"}
	DriverWasm          = Binary{Name: "rtd-driver-wasm", Pkg: "./cmd/rtd-driver-wasm"}
	Monitor             = Binary{Name: "rtd-monitor", Pkg: "./cmd/rtd-monitor"}
	DriverVM            = Binary{Name: "rtd-driver-vm", Pkg: "./cmd/rtd-driver-vm"}
	VMAgent             = Binary{Name: "rtd-vm-agent", Pkg: "./drivers/vm/cmd/rtd-vm-agent", Cgo: true, Flags: []string{"-tags", "seccomp,osusergo,netgo", "-ldflags", "-s -w"}}
	DriverWindows       = Binary{Name: "rtd-driver-windows", Pkg: "./cmd/rtd-driver-windows"}
	WasmRunner          = Binary{Name: "rtd-wasm-runner", Pkg: "./cmd/rtd-wasm-runner"}
	Probe               = Binary{Name: "rtd-probe", Pkg: "./conformance/probe/cmd/rtd-probe"}
	ProbeWasm           = Binary{Name: "probe.wasm", Pkg: "./conformance/probe/cmd/rtd-probe", Env: []string{"GOOS=wasip1", "GOARCH=wasm"}}
	LinuxDrivers        = []Binary{DriverLinux, LinuxMonitor, DriverGvisor, Monitor}
	VMDriverAndItsAgent = []Binary{DriverVM, VMAgent}
)

// BuildBinaries builds bins into dir from the module root, as `make build`
// does; the error names the command and carries its output.
func BuildBinaries(dir string, bins ...Binary) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	for _, b := range bins {
		args := append([]string{"build"}, b.Flags...)
		args = append(args, "-o", filepath.Join(dir, b.Name), b.Pkg)
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		cgo := "0"
		if b.Cgo {
			cgo = "1"
		}
		cmd.Env = append(append(os.Environ(), "CGO_ENABLED="+cgo), b.Env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// BinMain is TestMain for a package whose tests run built binaries: as
// root it makes a temporary directory named after prefix, calls setup with
// it (which builds into it; its error goes to *setupErr, for each test to
// report), runs the tests and removes the directory. Not as root it only
// runs the tests, which skip with the reason.
func BinMain(m *testing.M, prefix string, setupErr *error, setup func(dir string) error) int {
	if os.Geteuid() != 0 {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	*setupErr = setup(dir)
	return m.Run()
}

// ModuleRoot is the directory of the go.mod above the working directory.
func ModuleRoot() (string, error) {
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
