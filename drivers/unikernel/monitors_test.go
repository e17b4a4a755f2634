package unikernel

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

var testNet = &GuestNet{IP: "10.4.0.2", Bits: 24, Gateway: "10.4.0.1"}

func TestGuestCmdline(t *testing.T) {
	for _, c := range []struct {
		guest, cmdline string
		env            []string
		net            *GuestNet
		want           string
	}{
		{GuestPVH, "a b", nil, testNet, "a b"},
		{GuestUnikraft, "-- x", nil, nil, "-- x"},
		{GuestUnikraft, "/nginx -g off", []string{"A=1", "B=2"}, testNet, "Unikraft env.vars=[ A=1 B=2 ] netdev.ip=10.4.0.2/24:10.4.0.1:8.8.8.8 -- /nginx -g off"},
		{GuestUnikraft, "", nil, testNet, "Unikraft netdev.ip=10.4.0.2/24:10.4.0.1:8.8.8.8 -- "},
		{GuestMewz, "", nil, testNet, "ip=10.4.0.2/24 gateway=10.4.0.1"},
		{GuestMewz, "", nil, nil, ""},
		{GuestHermit, "srv -p 80", nil, testNet, "ip=10.4.0.2/24 gateway=10.4.0.1 -- srv -p 80"},
		{GuestHermit, "", nil, testNet, "ip=10.4.0.2/24 gateway=10.4.0.1"},
		{GuestHermit, "srv", nil, nil, "srv"},
		{GuestMirage, "--hello=x", nil, testNet, "--ipv4=10.4.0.2/24 --ipv4-gateway=10.4.0.1 --hello=x"},
		{GuestRumprun, "nginx -c /c", []string{"A=1", "B=2"}, nil, `{"cmdline":"nginx -c /c","env":"A=1","env":"B=2"}`},
		{GuestRumprun, "x", nil, testNet, `{"cmdline":"x","net":{"if":"ukvmif0","cloner":"True","type":"inet","method":"static","addr":"10.4.0.2","mask":"24","gw":"10.4.0.1"}}`},
	} {
		got, err := GuestCmdline(c.guest, c.cmdline, c.env, c.net)
		if err != nil || got != c.want {
			t.Errorf("%s %q: %q, %v; want %q", c.guest, c.cmdline, got, err, c.want)
		}
	}
	// An environment entry cannot close env.vars and add a parameter.
	if got, err := GuestCmdline(GuestUnikraft, "x", []string{"A=1 ] vfs.fstab=[ \"fs0:/:9pfs\""}, nil); !errdefs.IsInvalidArgument(err) {
		t.Errorf("unikraft env with a bracket: %q, %v", got, err)
	}
	if _, err := GuestCmdline("osv", "", nil, nil); !errdefs.IsInvalidArgument(err) {
		t.Errorf("unknown guest: %v", err)
	}
}

// A cmdline or environment value cannot close rumprun's JSON strings and
// add a key of its own.
func TestRumprunConfigAttack(t *testing.T) {
	evil := `x","net":{"addr":"6.6.6.6"},"cmdline":"y`
	got, err := GuestCmdline(GuestRumprun, evil, []string{`E=1"}`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if m["cmdline"] != evil || m["env"] != `E=1"}` || m["net"] != nil || len(m) != 2 {
		t.Errorf("config %s decodes to %v", got, m)
	}
}

func testLaunch() Launch {
	return Launch{Kernel: "/s/kernel", Cmdline: "a b", MemoryMiB: 64,
		Taps: []Tap{{"tap0", "02:00:00:00:00:01"}}, Disks: []string{"/s/rootfs.img"}}
}

func TestFirecrackerConfig(t *testing.T) {
	l := testLaunch()
	l.Initrd = "/s/initrd"
	// A cmdline that would close boot_args in hand-written JSON.
	l.Cmdline = `x", "kernel_image_path": "/etc/passwd`
	data, err := FirecrackerConfig(l)
	if err != nil {
		t.Fatal(err)
	}
	var c firecrackerConfig
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	if c.BootSource.KernelImagePath != "/s/kernel" || c.BootSource.BootArgs != l.Cmdline || c.BootSource.InitrdPath != "/s/initrd" {
		t.Errorf("boot-source %+v", c.BootSource)
	}
	if c.MachineConfig.VCPUCount != 1 || c.MachineConfig.MemSizeMiB != 64 {
		t.Errorf("machine-config %+v", c.MachineConfig)
	}
	if len(c.Drives) != 1 || c.Drives[0] != (firecrackerDrive{"disk0", "/s/rootfs.img", false, true}) {
		t.Errorf("drives %+v", c.Drives)
	}
	if len(c.NetworkInterfaces) != 1 || c.NetworkInterfaces[0] != (firecrackerNIC{"eth0", "tap0", "02:00:00:00:00:01"}) {
		t.Errorf("network-interfaces %+v", c.NetworkInterfaces)
	}
	args, err := FirecrackerArgs("/s/fc.json")
	if err != nil || !slices.Equal(args, []string{"--no-api", "--config-file", "/s/fc.json"}) {
		t.Errorf("argv %q, %v", args, err)
	}
	if _, err := FirecrackerArgs("--no-seccomp"); err == nil {
		t.Error("config path starting with '-' accepted")
	}
}

func TestCloudHypervisorArgv(t *testing.T) {
	l := testLaunch()
	l.Cmdline = "--kernel /etc/passwd"
	got, err := CloudHypervisorArgs(l)
	want := []string{"--kernel", "/s/kernel", "--memory", "size=64M", "--cpus", "boot=1", "--console", "off", "--serial", "tty",
		"--disk", "path=/s/rootfs.img,readonly=on", "--net", "tap=tap0,mac=02:00:00:00:00:01", "--cmdline=--kernel /etc/passwd"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("argv\n %q, %v\nwant\n %q", got, err, want)
	}
}

func TestSolo5Argv(t *testing.T) {
	l := testLaunch()
	// After the kernel nothing is a tender option, whatever it says.
	l.Cmdline = "--mem=65536 --block:rootfs=/etc/shadow -- /etc/passwd"
	for _, c := range []struct {
		guest string
		want  []string
	}{
		{GuestRumprun, []string{"--mem=64", "--net:tap=tap0", "--net-mac:tap=02:00:00:00:00:01", "--block:rootfs=/s/rootfs.img", "--", "/s/kernel", l.Cmdline}},
		{GuestMirage, []string{"--mem=64", "--net:service=tap0", "--net-mac:service=02:00:00:00:00:01", "--block:storage=/s/rootfs.img", "--", "/s/kernel", l.Cmdline}},
	} {
		got, err := Solo5Args(c.guest, l)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, %v; want %q", c.guest, got, err, c.want)
		}
	}
	if _, err := Solo5Args(GuestHermit, l); err == nil {
		t.Error("hermit on solo5 accepted")
	}
}

// No builder lets a value become another option: values that the
// monitors' option syntax would split are refused, and so are line breaks
// in the command line.
func TestArgvAttack(t *testing.T) {
	for name, mut := range map[string]func(*Launch){
		"disk with option list": func(l *Launch) { l.Disks[0] = "/s/d,readonly=off" },
		"tap with blank":        func(l *Launch) { l.Taps[0].Name = "tap0 --net" },
		"mac with '='":          func(l *Launch) { l.Taps[0].MAC = "x=y" },
		"kernel is an option":   func(l *Launch) { l.Kernel = "--no-api" },
		"cmdline with newline":  func(l *Launch) { l.Cmdline = "a\n--config-file /x" },
		"no memory":             func(l *Launch) { l.MemoryMiB = 0 },
	} {
		l := testLaunch()
		mut(&l)
		_, e1 := FirecrackerConfig(l)
		_, e2 := CloudHypervisorArgs(l)
		_, e3 := Solo5Args(GuestMirage, l)
		if e1 == nil || e2 == nil || e3 == nil {
			t.Errorf("%s: accepted (firecracker %v, cloud-hypervisor %v, solo5 %v)", name, e1, e2, e3)
		}
	}
}

func TestConfigMatrix(t *testing.T) {
	for _, c := range []struct {
		guest, monitor string
		ok             bool
	}{
		{GuestMewz, "", true}, {GuestMewz, MonitorQEMU, true}, {GuestHermit, MonitorQEMU, true},
		{GuestRumprun, "", true}, {GuestRumprun, MonitorHVT, true}, {GuestMirage, MonitorSPT, true},
		{GuestLinux, MonitorFirecracker, true}, {GuestLinux, MonitorCloudHypervisor, true}, {GuestUnikraft, MonitorFirecracker, true},
		{GuestRumprun, MonitorQEMU, false}, {GuestMewz, MonitorHVT, false}, {GuestPVH, MonitorFirecracker, false},
		{GuestHermit, MonitorCloudHypervisor, false}, {"osv", MonitorQEMU, false},
	} {
		cfg := &Config{Type: c.guest, Hypervisor: c.monitor, Binary: "/k"}
		err := cfg.Validate()
		if (err == nil) != c.ok || err != nil && !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s on %q: %v, want ok=%v", c.guest, c.monitor, err, c.ok)
		}
	}
	if m := (&Config{Type: GuestRumprun}).Monitor(); m != MonitorHVT {
		t.Errorf("rumprun's default monitor %q, want hvt", m)
	}
}

func TestMonitorReady(t *testing.T) {
	none := func(string) (string, error) { return "", errors.New("not found") }
	all := func(p string) (string, error) { return "/usr/bin/" + p, nil }
	for mon, bin := range map[string]string{MonitorFirecracker: "firecracker", MonitorCloudHypervisor: "cloud-hypervisor", MonitorHVT: "solo5-hvt", MonitorSPT: "solo5-spt", MonitorQEMU: "qemu-system-x86_64"} {
		if err := MonitorReady(mon, none); !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), bin+" not found on PATH") {
			t.Errorf("%s missing: %v, want FailedPrecondition naming %s", mon, err, bin)
		}
		err := MonitorReady(mon, all)
		if mon == MonitorQEMU && err != nil || mon != MonitorQEMU && !errdefs.IsNotImplemented(err) {
			t.Errorf("%s present: %v", mon, err)
		}
	}
	if err := MonitorReady("qemu -d", all); !errdefs.IsInvalidArgument(err) {
		t.Errorf("unknown monitor: %v", err)
	}
}

func TestMonitorStatusSaysWhy(t *testing.T) {
	got := MonitorStatus(func(p string) (string, error) {
		if p == "solo5-hvt" {
			return "/opt/solo5-hvt", nil
		}
		return "", errors.New("not found")
	})
	if len(got) != 4 || !strings.Contains(got[0], "firecracker") || !strings.Contains(got[0], "not on PATH") ||
		!strings.Contains(got[2], "found at /opt/solo5-hvt") || !strings.Contains(got[3], "unit-tested, not run here") {
		t.Errorf("status %q", got)
	}
}

func TestQEMUGuestArgs(t *testing.T) {
	for guest, want := range map[string][]string{
		GuestMewz:   {"-device", "isa-debug-exit,iobase=0x501,iosize=2"},
		GuestHermit: nil, GuestPVH: nil, GuestUnikraft: nil,
	} {
		if got := QEMUGuestArgs(guest); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", guest, got, want)
		}
	}
}
