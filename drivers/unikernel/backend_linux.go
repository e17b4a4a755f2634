package unikernel

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/rtd-project/rtd/kit/monitor"
)

// backendRequest rides in the monitor's request: QEMU's argv, built by the
// driver.
type backendRequest struct {
	QEMU string
	Args []string
	// Stderr: QEMU's fd 3 is the container's stderr (the guest's ttyS1).
	Stderr bool `json:",omitempty"`
	// Netns is the container's network namespace: the monitor connects a
	// tap to each of its interfaces and gives QEMU their files.
	Netns string `json:",omitempty"`
	// Drain is the end marker of the linux guest's output (wire.Process):
	// the watch strips it and acks on QEMU's fd 4 (the guest's rtd.ctl),
	// so the guest ends only once its output left QEMU.
	Drain string `json:",omitempty"`
}

// backend starts QEMU as the monitor's child, in its own process group,
// with the guest's serial console as the container's stdio; the monitor
// (package watch) then waits for it and records its status.
type backend struct{}

// Reexec runs this process as a monitor when it was started as one, and
// never returns then. Call it first thing in main.
func Reexec() {
	if monitor.IsMonitor() {
		os.Exit(monitor.Main(backend{}))
	}
}

func (backend) Start(m *monitor.Monitor) (int, error) {
	var r backendRequest
	if err := json.Unmarshal(m.Req.Backend, &r); err != nil || r.QEMU == "" {
		return 0, fmt.Errorf("monitor request without qemu command: %v", err)
	}
	in, out, errw, err := m.Stdio()
	if err != nil {
		return 0, err
	}
	var ack *os.File
	if r.Drain != "" {
		// Every stream through the watch, even a discarded one: the
		// guest waits for an ack per stream.
		if in, out, errw, err = m.NullStdio(in, out, errw); err != nil {
			return 0, err
		}
		if ack, err = m.EndMarker(r.Drain); err != nil {
			return 0, err
		}
	}
	cmd := &exec.Cmd{
		Path: r.QEMU, Args: append([]string{"qemu-system-x86_64"}, r.Args...),
		Dir:         m.Dir,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	monitor.SetCmdStdio(cmd, in, out, errw)
	if r.Stderr {
		f := errw
		if f == nil {
			if f, err = os.OpenFile(os.DevNull, os.O_WRONLY, 0); err != nil {
				return 0, err
			}
			defer f.Close()
		}
		cmd.ExtraFiles = []*os.File{f}
		if ack != nil {
			cmd.ExtraFiles = append(cmd.ExtraFiles, ack) // fd 4
		}
	}
	if r.Netns != "" {
		// The taps live as long as QEMU holds them (this process's
		// copies are closed below); CNI DEL removes the rest with the
		// veth.
		taps, args, err := connectTaps(r.Netns, 3+len(cmd.ExtraFiles))
		if err != nil {
			return 0, err
		}
		defer func() {
			for _, f := range taps {
				f.Close()
			}
		}()
		cmd.ExtraFiles = append(cmd.ExtraFiles, taps...)
		cmd.Args = append(cmd.Args, args...)
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start qemu: %w", err)
	}
	return cmd.Process.Pid, nil
}
