//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/rtd-project/rtd/drivers/unikernel/wire"
	"golang.org/x/sys/unix"
)

// stage2Arg makes /init the program's setup stage: started by init in new
// pid and mount namespaces (so that the program is pid 1 there and sees its
// own /proc), it mounts the spec's filesystems, chroots, applies hostname,
// rlimits, user, capabilities and no_new_privs, and executes the program.
const stage2Arg = "rtd-stage2"

// stage2 never returns: it executes the program or exits 125-127.
func stage2() {
	runtime.LockOSThread() // credentials and capabilities are per thread
	fail := func(code int, err error) {
		fmt.Fprintf(os.Stderr, "rtd-unikernel-init: %v\n", err)
		os.Exit(code)
	}
	p, err := readProcess()
	if err != nil {
		fail(125, err)
	}
	_ = unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "") // the namespace's mounts stay in it
	if err := specMounts(p.Mounts); err != nil {
		fail(125, err)
	}
	if p.Hostname != "" {
		_ = unix.Sethostname([]byte(p.Hostname))
	}
	if err := unix.Chroot("/newroot"); err != nil {
		fail(125, fmt.Errorf("chroot: %w", err))
	}
	cwd := p.Cwd
	if cwd == "" {
		cwd = "/"
	}
	if err := os.Chdir(cwd); err != nil {
		fail(126, fmt.Errorf("cwd %s: %w", cwd, err))
	}
	path, err := lookPath(p)
	if err != nil {
		fail(127, err)
	}
	for _, r := range p.Rlimits {
		if err := setRlimit(r); err != nil {
			fail(125, err)
		}
	}
	if err := setUserAndCaps(p); err != nil {
		fail(125, err)
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			fail(125, fmt.Errorf("no_new_privs: %w", err))
		}
	}
	err = syscall.Exec(path, p.Args, p.Env)
	code := 126
	if os.IsNotExist(err) {
		code = 127
	}
	fail(code, fmt.Errorf("exec %s: %w", p.Args[0], err))
}

func lookPath(p wire.Process) (string, error) {
	path := p.Args[0]
	if strings.Contains(path, "/") {
		return path, nil
	}
	for _, kv := range p.Env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			os.Setenv("PATH", v)
		}
	}
	lp, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("%s: not found in PATH", path)
	}
	return lp, nil
}

// mountFlags splits OCI mount options into flags and data.
func mountFlags(opts []string) (uintptr, string) {
	known := map[string]uintptr{
		"ro": unix.MS_RDONLY, "nosuid": unix.MS_NOSUID, "nodev": unix.MS_NODEV, "noexec": unix.MS_NOEXEC,
		"relatime": unix.MS_RELATIME, "strictatime": unix.MS_STRICTATIME, "noatime": unix.MS_NOATIME,
		"sync": unix.MS_SYNCHRONOUS, "bind": unix.MS_BIND, "rbind": unix.MS_BIND | unix.MS_REC,
	}
	var flags uintptr
	var data []string
	for _, o := range opts {
		if f, ok := known[o]; ok {
			flags |= f
			continue
		}
		switch o {
		case "rw", "private", "rprivate", "slave", "rslave", "shared", "rshared", "suid", "dev", "exec", "async":
			continue
		}
		data = append(data, o)
	}
	return flags, strings.Join(data, ",")
}

// specMounts mounts the spec's filesystems under /newroot, in order; /dev is
// always the guest's devtmpfs.
func specMounts(ms []wire.Mount) error {
	have := map[string]bool{}
	for _, m := range ms {
		have[m.Destination] = true
	}
	for _, d := range []wire.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "devtmpfs", Source: "devtmpfs"},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"ro", "nosuid", "nodev", "noexec"}},
	} {
		if !have[d.Destination] {
			ms = append([]wire.Mount{d}, ms...)
		}
	}
	for _, m := range ms {
		target := "/newroot" + m.Destination
		flags, data := mountFlags(m.Options)
		fstype, source := m.Type, m.Type
		fileBind := false
		switch {
		case m.Type == "bind" || flags&unix.MS_BIND != 0:
			fstype, source = "", "/binds/"+m.Source
			if fi, err := os.Stat(source); err == nil && !fi.IsDir() {
				// A file (e.g. the network's /etc/hosts) is mounted
				// on a file.
				if err := mkfile(target); err != nil {
					return err
				}
				fileBind = true
			}
		case m.Destination == "/dev":
			fstype, source, data = "devtmpfs", "devtmpfs", "mode=0755"
			flags &^= unix.MS_NOEXEC
		case m.Type == "cgroup" || m.Type == "cgroup2":
			continue
		}
		if err := os.MkdirAll(target, 0o755); err != nil && !os.IsExist(err) && !fileBind {
			return fmt.Errorf("mount point %s: %w", m.Destination, err)
		}
		if err := unix.Mount(source, target, fstype, flags&^unix.MS_RDONLY, data); err != nil {
			if m.Type == "mqueue" || m.Type == "devpts" {
				continue // not built into every guest kernel: best effort
			}
			return fmt.Errorf("mount %s on %s: %w", m.Type, m.Destination, err)
		}
		if flags&unix.MS_RDONLY != 0 {
			ro := flags | unix.MS_REMOUNT | unix.MS_RDONLY
			if fstype == "" {
				ro |= unix.MS_BIND
			}
			if err := unix.Mount("", target, "", ro, ""); err != nil {
				return fmt.Errorf("remount %s read-only: %w", m.Destination, err)
			}
		}
	}
	return nil
}

func mkfile(path string) error {
	if err := os.MkdirAll(path[:strings.LastIndexByte(path, '/')], 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

var rlimitTypes = map[string]int{
	"RLIMIT_CPU": unix.RLIMIT_CPU, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_DATA": unix.RLIMIT_DATA,
	"RLIMIT_STACK": unix.RLIMIT_STACK, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK,
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
}

func setRlimit(r wire.Rlimit) error {
	t, ok := rlimitTypes[r.Type]
	if !ok {
		return fmt.Errorf("rlimit %s: unknown", r.Type)
	}
	if err := unix.Prlimit(0, t, &unix.Rlimit{Cur: r.Soft, Max: r.Hard}, nil); err != nil {
		return fmt.Errorf("rlimit %s: %w", r.Type, err)
	}
	return nil
}

// setUserAndCaps drops the bounding set, switches to the spec's user while
// keeping the permitted set, then sets the capability sets: all on this
// (locked) thread, whose credentials the program inherits at exec.
func setUserAndCaps(p wire.Process) error {
	if p.Caps != nil {
		keep := capBits(p.Caps.Bounding)
		for c := 0; c <= unix.CAP_LAST_CAP; c++ {
			if keep&(1<<c) == 0 {
				if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && err != unix.EINVAL {
					return fmt.Errorf("drop capability %d from the bounding set: %w", c, err)
				}
			}
		}
		if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("keepcaps: %w", err)
		}
	}
	groups := make([]int, len(p.AdditionalGids))
	for i, g := range p.AdditionalGids {
		groups[i] = int(g)
	}
	if err := unix.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(p.GID), uintptr(p.GID), uintptr(p.GID)); e != 0 {
		return fmt.Errorf("setresgid %d: %w", p.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(p.UID), uintptr(p.UID), uintptr(p.UID)); e != 0 {
		return fmt.Errorf("setresuid %d: %w", p.UID, e)
	}
	if p.Caps == nil {
		return nil
	}
	eff, perm, inh := capBits(p.Caps.Effective), capBits(p.Caps.Permitted), capBits(p.Caps.Inheritable)
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(eff), Permitted: uint32(perm), Inheritable: uint32(inh)},
		{Effective: uint32(eff >> 32), Permitted: uint32(perm >> 32), Inheritable: uint32(inh >> 32)},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	for _, name := range p.Caps.Ambient {
		if c, ok := capNumber(name); ok {
			_ = unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c), 0, 0)
		}
	}
	return nil
}

func capBits(names []string) uint64 {
	var m uint64
	for _, n := range names {
		if c, ok := capNumber(n); ok {
			m |= 1 << c
		}
	}
	return m
}

// capNumber maps "CAP_NAME" to its number (capability(7)).
func capNumber(name string) (int, bool) {
	names := []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
		"SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
		"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
		"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE",
		"AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
		"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"}
	for i, n := range names {
		if "CAP_"+n == name {
			return i, true
		}
	}
	if v, err := strconv.Atoi(strings.TrimPrefix(name, "CAP_")); err == nil {
		return v, true
	}
	return 0, false
}
