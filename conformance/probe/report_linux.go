//go:build linux

package probe

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Collect gathers the report.
func Collect() Report {
	r := Report{
		Pid: os.Getpid(), Ppid: os.Getppid(), UID: os.Getuid(), GID: os.Getgid(), EUID: os.Geteuid(),
		Env: os.Environ(), Namespaces: map[string]string{}, Rlimits: map[string][2]uint64{},
	}
	r.Groups, _ = os.Getgroups()
	r.Cwd, _ = os.Getwd()
	r.Hostname, _ = os.Hostname()
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		r.Kernel = cstr(u.Release[:])
		r.KernelVer = cstr(u.Version[:])
	}
	status := readStatus()
	r.CapEff, r.CapPrm, r.CapBnd = status["CapEff"], status["CapPrm"], status["CapBnd"]
	r.NoNewPrivs, r.Seccomp = status["NoNewPrivs"], status["Seccomp"]
	// Ask the kernel directly: not every kernel (gVisor) lists it in status.
	if v, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); err == nil {
		r.NoNewPrivs = strconv.Itoa(v)
	}
	for _, ns := range []string{"pid", "mnt", "net", "uts", "ipc", "user", "cgroup"} {
		if l, err := os.Readlink("/proc/self/ns/" + ns); err == nil {
			r.Namespaces[ns] = l
		}
	}
	if f, err := os.Open("/proc/self/mounts"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			fields := strings.Fields(s.Text())
			if len(fields) >= 4 {
				r.Mounts = append(r.Mounts, Mount{Target: fields[1], Type: fields[2], Options: fields[3]})
			}
		}
		f.Close()
	}
	for name, res := range map[string]int{"NOFILE": syscall.RLIMIT_NOFILE, "CORE": syscall.RLIMIT_CORE, "STACK": syscall.RLIMIT_STACK} {
		var l syscall.Rlimit
		if syscall.Getrlimit(res, &l) == nil {
			r.Rlimits[name] = [2]uint64{uint64(l.Cur), uint64(l.Max)}
		}
	}
	if entries, err := os.ReadDir("/proc"); err == nil {
		for _, e := range entries {
			if _, err := strconv.Atoi(e.Name()); err == nil {
				r.Procs++
			}
		}
	}
	r.StdinTTY, r.StdoutTTY = isTTY(0), isTTY(1)
	r.RootRO = rootReadOnly()
	return r
}

func readStatus() map[string]string {
	out := map[string]string{}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return out
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

func cstr(b []int8) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}
