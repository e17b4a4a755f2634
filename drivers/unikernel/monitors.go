package unikernel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rtd-project/rtd/driver"
)

// urunc's other guests and monitors. Their command-line and argv builders
// below are pure and table-tested; only QEMU runs here (none of
// firecracker, cloud-hypervisor, solo5-hvt, solo5-spt is installed on this
// machine), so a pair on another monitor is refused at create: by
// MonitorReady when its binary is missing, else as not implemented (the
// driver's lifecycle drives QEMU through QMP only).
const (
	GuestMewz              = "mewz"
	GuestHermit            = "hermit"
	GuestRumprun           = "rumprun"
	GuestMirage            = "mirage"
	MonitorFirecracker     = "firecracker"
	MonitorCloudHypervisor = "cloud-hypervisor"
	MonitorHVT             = "hvt"
	MonitorSPT             = "spt"
)

// monitorBinary is each monitor's program, looked up on PATH.
var monitorBinary = map[string]string{
	MonitorQEMU:            "qemu-system-x86_64",
	MonitorFirecracker:     "firecracker",
	MonitorCloudHypervisor: "cloud-hypervisor",
	MonitorHVT:             "solo5-hvt",
	MonitorSPT:             "solo5-spt",
}

// MonitorReady says whether a monitor can be started: its binary must be
// on PATH (lookPath is exec.LookPath). A missing one is FailedPrecondition
// naming the binary; a present non-QEMU one is NotImplemented, since only
// its argv builder exists (unit-tested, never run here).
func MonitorReady(monitor string, lookPath func(string) (string, error)) error {
	bin, ok := monitorBinary[monitor]
	if !ok {
		return driver.InvalidArgumentf("%s %q: unknown monitor", AnnotHypervisor, monitor)
	}
	if _, err := lookPath(bin); err != nil {
		return driver.FailedPreconditionf("monitor %s: %s not found on PATH: install it to run this guest", monitor, bin)
	}
	if monitor != MonitorQEMU {
		return driver.NotImplementedf("monitor %s: rtd builds its argv (unit-tested) but does not launch it yet; only qemu runs guests here", monitor)
	}
	return nil
}

// QEMUGuestArgs are the QEMU arguments a guest needs beyond internal/vmm's
// Machine (shared with drivers/vm), as urunc adds them: mewz ends QEMU
// through isa-debug-exit at port 0x501 (besides rtd's at 0xf4, with the
// same (N<<1)|1 status). Machine already has -no-reboot, which hermit needs.
func QEMUGuestArgs(guest string) []string {
	if guest == GuestMewz {
		return []string{"-device", "isa-debug-exit,iobase=0x501,iosize=2"}
	}
	return nil
}

// GuestNet is a guest's static IPv4 configuration, for the guests that
// read it from their command line (mewz, hermit, rumprun, mirage).
type GuestNet struct {
	IP      string
	Bits    int
	Gateway string
}

// GuestCmdline builds a guest's command line from the cmdline (the
// annotation or the process's arguments), the environment (rumprun) and
// the network, in each guest's own syntax as urunc writes it. The result is
// one argument of its monitor's argv, never split.
func GuestCmdline(guest, cmdline string, env []string, n *GuestNet) (string, error) {
	var parts []string
	switch guest {
	case GuestUnikraft:
		if n == nil && len(env) == 0 {
			return cmdline, nil // as given, as before: a PVH unikernel's own syntax
		}
		return unikraftCmdline(cmdline, env, n)
	case GuestPVH, GuestLinux:
		return cmdline, nil
	case GuestRumprun:
		return rumprunConfig(cmdline, env, n)
	case GuestMewz:
		if n != nil {
			parts = append(parts, fmt.Sprintf("ip=%s/%d", n.IP, n.Bits))
			parts = appendIf(parts, "gateway=", n.Gateway)
		}
	case GuestHermit:
		if n != nil {
			parts = append(parts, fmt.Sprintf("ip=%s/%d", n.IP, n.Bits))
			parts = appendIf(parts, "gateway=", n.Gateway)
			if strings.TrimSpace(cmdline) != "" {
				parts = append(parts, "--")
			}
		}
	case GuestMirage:
		if n != nil {
			parts = append(parts, fmt.Sprintf("--ipv4=%s/%d", n.IP, n.Bits))
			parts = appendIf(parts, "--ipv4-gateway=", n.Gateway)
		}
	default:
		return "", driver.InvalidArgumentf("%s %q: no command-line builder", AnnotType, guest)
	}
	if c := strings.TrimSpace(cmdline); c != "" {
		parts = append(parts, c)
	}
	return strings.Join(parts, " "), nil
}

// unikraftCmdline is urunc's command line of a Unikraft guest (Unikraft
// 0.16.1 and later): the application's name, its environment as
// env.vars, its network as netdev.ip, then "--" and the application's
// arguments. An environment entry that could end the env.vars list or add
// a parameter (a blank, a bracket, a quote) is refused.
func unikraftCmdline(cmdline string, env []string, n *GuestNet) (string, error) {
	parts := []string{"Unikraft"}
	if len(env) > 0 {
		for _, e := range env {
			if e == "" || strings.ContainsAny(e, " \t\n\r\x00[]\"'") {
				return "", driver.InvalidArgumentf("unikraft guest: environment entry %q holds a blank, a bracket or a quote, which env.vars cannot carry", e)
			}
		}
		parts = append(parts, "env.vars=[ "+strings.Join(env, " ")+" ]")
	}
	if n != nil {
		parts = append(parts, fmt.Sprintf("netdev.ip=%s/%d:%s:8.8.8.8", n.IP, n.Bits, n.Gateway))
	}
	return strings.Join(append(parts, "--", strings.TrimSpace(cmdline)), " "), nil
}

// rumprunConfig is rumprun's JSON configuration (rumprun's doc/config.md):
// one object whose "env" key repeats, which encoding/json cannot write, so
// it is assembled from JSON-encoded strings: no value can close a string
// or the object.
func rumprunConfig(cmdline string, env []string, n *GuestNet) (string, error) {
	str := func(s string) string {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s) // a string always encodes
		return strings.TrimSuffix(b.String(), "\n")
	}
	fields := []string{`"cmdline":` + str(cmdline)}
	for _, e := range env {
		fields = append(fields, `"env":`+str(e))
	}
	if n != nil {
		fields = append(fields, fmt.Sprintf(`"net":{"if":"ukvmif0","cloner":"True","type":"inet","method":"static","addr":%s,"mask":"%d","gw":%s}`,
			str(n.IP), n.Bits, str(n.Gateway)))
	}
	return "{" + strings.Join(fields, ",") + "}", nil
}

// Tap is a network device handed to the guest.
type Tap struct {
	Name string
	MAC  string
}

// Launch is what a monitor's argv needs: host paths of files the driver
// wrote into the container's dir (never an annotation's path) and the
// guest's command line, which is always one argument or one JSON string.
type Launch struct {
	Kernel    string
	Initrd    string
	Cmdline   string
	MemoryMiB int
	CPUs      int
	Taps      []Tap
	Disks     []string
}

// MonitorStatus says, per non-QEMU monitor, whether its binary is on PATH
// and that rtd does not launch it (for Info's known gaps).
func MonitorStatus(lookPath func(string) (string, error)) []string {
	var out []string
	for _, m := range []string{MonitorFirecracker, MonitorCloudHypervisor, MonitorHVT, MonitorSPT} {
		state := "not on PATH"
		if p, err := lookPath(monitorBinary[m]); err == nil {
			state = "found at " + p + " but not launched by rtd"
		}
		out = append(out, fmt.Sprintf("monitor %s (%s): %s; argv unit-tested, not run here", m, monitorBinary[m], state))
	}
	return out
}

// appendIf appends key+value when value is not empty (a network without a
// gateway gives its guest none).
func appendIf(parts []string, key, value string) []string {
	if value == "" {
		return parts
	}
	return append(parts, key+value)
}
