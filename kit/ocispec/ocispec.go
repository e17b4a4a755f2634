package ocispec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultCapabilities is docker's default capability set.
var DefaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// DefaultEnv is the environment of a process when the image sets none.
var DefaultEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}

// CgroupsPath is the cgroup of container id when its spec names none:
// /rtd/<hash>/<id>, where hash is a short hash of scope (rtd's root, or a
// driver's state directory, which lies in it). The same id in two roots
// (two users, two test runs, CI beside a developer) then never shares a
// cgroup. A cgroupsPath the caller sets (containerd, Docker) is used as
// given.
func CgroupsPath(scope, id string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(scope)))
	return "/rtd/" + hex.EncodeToString(sum[:4]) + "/" + id
}

// CheckRootfs refuses a container root that is the host's root directory
// (after symlinks, "..", or a bind mount of /: the same directory): a
// container there would see and change the whole host. It returns the
// message for an InvalidArgument error, or "" when rootfs is fine (or
// cannot be read: the caller's own checks report that).
func CheckRootfs(rootfs string) string {
	fi, err := os.Stat(rootfs)
	if err != nil {
		return ""
	}
	host, err := os.Stat("/")
	if err != nil || !os.SameFile(fi, host) {
		return ""
	}
	return fmt.Sprintf("the container's root %s is the host's root directory: a container there would see and change the whole host; give it its own root filesystem directory", rootfs)
}

// Default returns a spec running args in rootfs (an absolute path) with
// private pid, ipc, uts, mount and network namespaces.
func Default(rootfs string, args []string) *specs.Spec {
	caps := append([]string(nil), DefaultCapabilities...)
	return &specs.Spec{
		Version: "1.0.2",
		Root:    &specs.Root{Path: rootfs},
		Process: &specs.Process{
			Args: args,
			Env:  append([]string(nil), DefaultEnv...),
			Cwd:  "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Hostname: "rtd",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
			},
			MaskedPaths: []string{
				"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
				"/proc/scsi",
			},
			ReadonlyPaths: []string{
				"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
			},
		},
	}
}
