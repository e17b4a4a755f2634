package wasm

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/wasm/runner"
	"github.com/rtd-project/rtd/kit/atomicfile"
	"github.com/rtd-project/rtd/kit/monitor"
)

// backend starts a container's runner for its monitor.
type backend struct{}

// Reexec runs this process as a monitor or as a runner when it was started
// as one, and never returns then. Call it first thing in main.
func Reexec() {
	if monitor.IsMonitor() {
		os.Exit(monitor.Main(backend{}))
	}
	if runner.IsRunner() {
		os.Exit(runner.Main())
	}
}

// runnerBinary is cmd/rtd-wasm-runner next to this binary (wazero and the
// runner without the driver SDK: its exec and init take about half those
// of the driver binary, and every warm start pays them), else this binary.
func runnerBinary() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	slim := filepath.Join(filepath.Dir(exe), runner.Name)
	if st, err := os.Stat(slim); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
		return slim, nil
	}
	return exe, nil
}

// Start starts the runner (rtd-wasm-runner or this binary) with the workload's stdio, puts it
// into the container's cgroup, lets it compile the module and returns its
// pid once it waits for Start.
func (backend) Start(m *monitor.Monitor) (int, error) {
	var cfg runner.Config
	if err := atomicfile.ReadJSON(filepath.Join(m.Dir, runner.File), &cfg); err != nil {
		return 0, fmt.Errorf("read %s: %w", runner.File, err)
	}
	in, out, errw, err := m.Stdio()
	if err != nil {
		return 0, err
	}
	exe, err := runnerBinary()
	if err != nil {
		return 0, err
	}
	goR, goW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer goW.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		goR.Close()
		return 0, err
	}
	defer readyR.Close()
	cmd := &exec.Cmd{Path: exe, Args: []string{runner.Name, m.Dir}, Env: []string{}, ExtraFiles: []*os.File{readyW, goR}}
	monitor.SetCmdStdio(cmd, in, out, errw)
	err = cmd.Start()
	readyW.Close()
	goR.Close()
	if err != nil {
		return 0, fmt.Errorf("start runner of %s: %w", cfg.ID, err)
	}
	pid := cmd.Process.Pid
	fail := func(err error) (int, error) {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		_ = removeCgroup(cfg.Cgroup)
		return 0, err
	}
	if err := joinCgroup(cfg.Cgroup, pid); err != nil {
		return fail(fmt.Errorf("cgroup %s of %s: %w", cfg.Cgroup, cfg.ID, err))
	}
	m.Exit.OOMFiles = oomFiles(cfg.Cgroup)
	// The runner waits for this byte: nothing runs outside the cgroup.
	if _, err := goW.Write([]byte{1}); err != nil {
		return fail(fmt.Errorf("runner of %s: %w", cfg.ID, err))
	}
	var rep runner.Report
	if err := json.NewDecoder(readyR).Decode(&rep); err != nil {
		return fail(fmt.Errorf("runner of %s exited before it was ready: %v", cfg.ID, err))
	}
	if rep.Error != "" {
		return fail(monitor.ClassedError(rep.Class, rep.Error))
	}
	if err := limitCgroup(cfg.Cgroup, cfg.Resources); err != nil {
		return fail(driver.InvalidArgumentf("create %s: limits of cgroup %s: %v", cfg.ID, cfg.Cgroup, err))
	}
	return pid, nil
}
