//go:build linux

package monitor_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/monitor"
)

// A driver's main checks first whether it was started as a monitor; here
// the test binary is the driver binary.
func TestMain(m *testing.M) {
	if monitor.IsMonitor() {
		os.Exit(monitor.Main(commandBackend{}))
	}
	os.Exit(m.Run())
}

// commandBackend is the driver's part of a monitor: it starts the workload
// with the monitor's ends of its stdio. A real driver runs its backend here
// (runc create, a VM, a sandbox); this one runs the request's process on
// the host.
type commandBackend struct{}

func (commandBackend) Start(m *monitor.Monitor) (int, error) {
	in, out, errw, err := m.Stdio()
	if err != nil {
		return 0, err
	}
	args := m.Req.Process.Args
	cmd := exec.Command(args[0], args[1:]...)
	monitor.SetCmdStdio(cmd, in, out, errw)
	if err := cmd.Start(); err != nil {
		return 0, driver.NotFoundf("start %s: %v", m.Req.ID, err)
	}
	// The monitor is the workload's parent: it reaps it and records its
	// exit status, also after the driver process is gone.
	return cmd.Process.Pid, nil
}

// The driver side: a process dir, a request, a monitor that outlives the
// driver process, and the exit status from its record.
func Example() {
	root, err := os.MkdirTemp("", "monitor-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	exe, _ := os.Executable() // re-executed as the monitor (TestMain above)
	c := &monitor.Containers{Layout: monitor.Layout{Root: root}, Exe: exe, Name: "example"}
	ctx := context.Background()

	dir, err := c.NewDir("hello", "")
	if err != nil {
		panic(err)
	}
	stdout := filepath.Join(root, "stdout")
	pid, err := c.Launch(ctx, dir, monitor.Request{
		ID:      "hello",
		Process: &specs.Process{Args: []string{"/bin/sh", "-c", "echo hello from the workload; exit 3"}},
		Stdio:   monitor.StdioOf(driver.Stdio{Stdout: stdout}),
	})
	if err != nil {
		panic(err)
	}
	st, err := c.Wait(ctx, &driver.WaitRequest{ID: "hello"})
	if err != nil {
		panic(err)
	}
	out, _ := os.ReadFile(stdout)
	fmt.Printf("pid > 0: %v\n%sexit code %d\n", pid > 0, out, st.Code)
	if err := c.Remove(ctx, "hello"); err != nil {
		panic(err)
	}
	// Output:
	// pid > 0: true
	// hello from the workload
	// exit code 3
}
