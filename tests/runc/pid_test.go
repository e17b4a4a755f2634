//go:build linux

package runc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// subreaperEnv makes the test binary the small subreaper caller below, as
// containerd's runc shim and conmon are.
const subreaperEnv = "RTD_RUNC_TEST_SUBREAPER"

func init() {
	if os.Getenv(subreaperEnv) != "" {
		os.Exit(subreaperMain(os.Args[1:]))
	}
}

// subreaperMain is a caller in the shim's place: it becomes a subreaper,
// runs `RUNTIME --root ROOT create --bundle B --pid-file F ID`, then
// `start ID`, and waits for the pid of the pid file, which the runtime's
// exit re-parented to it. It prints "status N" and reaps the other
// orphans it inherited meanwhile.
func subreaperMain(args []string) int {
	bin, root, b, id := args[0], args[1], args[2], args[3]
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Println("prctl:", err)
		return 1
	}
	pidFile := filepath.Join(b, "pid")
	for _, a := range [][]string{{"create", "--bundle", b, "--pid-file", pidFile, id}, {"start", id}} {
		cmd := exec.Command(bin, append([]string{"--root", root}, a...)...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Println(a[0], err)
			return 1
		}
		if a[0] == "create" {
			data, err := os.ReadFile(pidFile)
			if err != nil {
				fmt.Println("pid file:", err)
				return 1
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
			if ppid := parentOf(pid); ppid != os.Getpid() {
				fmt.Printf("pid %d has parent %d, not the caller %d\n", pid, ppid, os.Getpid())
				return 1
			}
		}
	}
	data, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			fmt.Println("wait:", err)
			return 1
		}
		if got == pid {
			fmt.Printf("status %d\n", ws.ExitStatus())
			return 0
		}
	}
}

func parentOf(pid int) int {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// TestPidFileProcess: the pid-file's process is re-parented to a
// subreaper caller when create returns, and exits with the workload's
// status, as runc's container process does: containerd's runc shim and
// conmon learn the exit that way. state and delete agree afterwards.
func TestPidFileProcess(t *testing.T) {
	need(t)
	eachRuntime(t, true, func(t *testing.T, r *runtime) {
		b := bundle(t, "sh", "-c", "exit 42")
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(self, r.bin, r.root, b, "c1")
		cmd.Env = append(os.Environ(), subreaperEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "status 42") {
			t.Fatalf("subreaper caller: %v\n%s\nwant status 42", err, out)
		}
		if st := r.state("c1"); st["status"] != "stopped" {
			t.Fatalf("state after exit: %v, want stopped", st)
		}
		r.ok("delete", "c1")
		assertEmpty(t, r)
	})
}
