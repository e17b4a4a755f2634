package unikernel

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/vishvananda/netlink"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/nettap"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func annots(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = b64(kv[i+1])
	}
	return m
}

// load decodes and validates, as Create does.
func load(t *testing.T, a map[string]string, rootfs string) (*Config, error) {
	t.Helper()
	c, err := LoadConfig(a, rootfs)
	if err != nil {
		return nil, err
	}
	return c, c.Validate()
}

func TestConfigFromAnnotationsAndUruncJSON(t *testing.T) {
	rootfs := t.TempDir()
	c, err := load(t, annots(AnnotType, "pvh", AnnotHypervisor, "qemu", AnnotBinary, "/k.elf", AnnotCmdline, "a b"), rootfs)
	if err != nil || c.Type != "pvh" || c.Binary != "/k.elf" || c.Cmdline != "a b" || c.Source != "annotations" {
		t.Fatalf("annotations: %+v, %v", c, err)
	}
	// Without annotations, /urunc.json (base64 values, urunc's keys).
	data, _ := json.Marshal(annots(AnnotType, "unikraft", AnnotHypervisor, "qemu", AnnotBinary, "/unikernel/k", AnnotCmdline, "x"))
	if err := os.WriteFile(filepath.Join(rootfs, "urunc.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err = load(t, nil, rootfs)
	if err != nil || c.Type != "unikraft" || c.Binary != "/unikernel/k" || c.Source != "/urunc.json" {
		t.Fatalf("urunc.json: %+v, %v", c, err)
	}
	// An ordinary bundle: neither.
	if _, err := load(t, map[string]string{"other": "x"}, t.TempDir()); !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "declare a unikernel") {
		t.Errorf("ordinary bundle: %v, want InvalidArgument saying a unikernel must be declared", err)
	}
	// Values must be base64, as urunc decodes them.
	if _, err := load(t, map[string]string{AnnotType: "pvh!"}, rootfs); !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), AnnotType) {
		t.Errorf("plain value: %v", err)
	}
}

// A symlinked /urunc.json cannot make the driver read a host file.
func TestUruncJSONSymlinkStaysInRootfs(t *testing.T) {
	host := t.TempDir()
	data, _ := json.Marshal(annots(AnnotType, "pvh", AnnotBinary, "/k"))
	if err := os.WriteFile(filepath.Join(host, "urunc.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	rootfs := t.TempDir()
	if err := os.Symlink(filepath.Join(host, "urunc.json"), filepath.Join(rootfs, "urunc.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := load(t, nil, rootfs); !errdefs.IsInvalidArgument(err) {
		t.Errorf("symlink to a host file was followed: %v", err)
	}
}

// GHSA-crxr-jm9v-349c: annotations injecting arguments into the monitor's
// command line are refused, naming the annotation.
func TestArgumentInjectionRefused(t *testing.T) {
	for name, c := range map[string]struct {
		a    map[string]string
		want string
	}{
		"binary with blank and option": {annots(AnnotType, "pvh", AnnotBinary, "/k -device isa-debug-exit"), AnnotBinary},
		"binary is an option":          {annots(AnnotType, "pvh", AnnotBinary, "-kernel"), AnnotBinary},
		"initrd with option list":      {annots(AnnotType, "pvh", AnnotBinary, "/k", AnnotInitrd, "/i,format=qcow2"), AnnotInitrd},
		"block with option list":       {annots(AnnotType, "linux", AnnotBlock, "/b,if=none,file=/etc/shadow"), AnnotBlock},
		"hypervisor with arguments":    {annots(AnnotType, "pvh", AnnotBinary, "/k", AnnotHypervisor, "qemu -d"), AnnotHypervisor},
		"monitor not allowed":          {annots(AnnotType, "pvh", AnnotBinary, "/k", AnnotHypervisor, "firecracker"), AnnotHypervisor},
		"guest not allowed":            {annots(AnnotType, "osv", AnnotBinary, "/k", AnnotHypervisor, "qemu"), AnnotType},
		"solo5 guest on qemu":          {annots(AnnotType, "rumprun", AnnotBinary, "/k", AnnotHypervisor, "qemu"), AnnotHypervisor},
		"hvt with arguments":           {annots(AnnotType, "mirage", AnnotBinary, "/k", AnnotHypervisor, "hvt --mem=9"), AnnotHypervisor},
		"cmdline with newline":         {annots(AnnotType, "pvh", AnnotBinary, "/k", AnnotCmdline, "a\n-kernel x"), AnnotCmdline},
		"mount point with blank":       {annots(AnnotType, "linux", AnnotBlkMntPoint, "/m -x"), AnnotBlkMntPoint},
		"bool not a bool":              {annots(AnnotType, "linux", AnnotMountRootfs, "yes,-x"), AnnotMountRootfs},
	} {
		_, err := load(t, c.a, t.TempDir())
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want InvalidArgument naming %s", name, err, c.want)
		}
	}
}

// The guest command line reaches QEMU as the single argument of -append,
// whatever it holds, and no other annotation value is on QEMU's argv.
func TestCmdlineIsOneArgument(t *testing.T) {
	rootfs := t.TempDir()
	if err := os.WriteFile(filepath.Join(rootfs, "k.elf"), []byte("ELF"), 0o644); err != nil {
		t.Fatal(err)
	}
	evil := "x -device isa-debug-exit,iobase=0x501 -kernel /etc/passwd"
	c, err := load(t, annots(AnnotType, "pvh", AnnotBinary, "/k.elf", AnnotCmdline, evil), rootfs)
	if err != nil {
		t.Fatal(err)
	}
	spec := testSpecFor(rootfs)
	m, err := prepare(t.Context(), &assets{qemu: "/usr/bin/qemu"}, t.TempDir(), rootfs, rootfs, c, spec, accelTCG(), "/q.sock")
	if err != nil {
		t.Fatal(err)
	}
	args := m.args()
	kernels := 0
	for i, a := range args {
		if a == "-kernel" {
			kernels++
		}
		if a == "-append" && args[i+1] != evil {
			t.Errorf("-append %q, want the annotation verbatim", args[i+1])
		}
		if strings.Contains(a, "/k.elf") || strings.Contains(a, "/etc/passwd") && args[i-1] != "-append" {
			t.Errorf("annotation value on argv outside -append: %q", a)
		}
	}
	if kernels != 1 {
		t.Errorf("%d -kernel options: %q", kernels, args)
	}
}

// GHSA-3385-hmpj-4678: paths in annotations stay inside the rootfs.
func TestPathTraversalRefused(t *testing.T) {
	host := t.TempDir()
	secret := filepath.Join(host, "secret")
	if err := os.WriteFile(secret, []byte("host"), 0o600); err != nil {
		t.Fatal(err)
	}
	rootfs := t.TempDir()
	if err := os.Symlink(secret, filepath.Join(rootfs, "abs-link")); err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(rootfs, secret)
	if err := os.Symlink(rel, filepath.Join(rootfs, "rel-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(rootfs, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"../../../../" + strings.TrimPrefix(secret, "/"), "/dir/../../" + rel, "/abs-link", "/rel-link", "/dir"} {
		got, err := Resolve(rootfs, AnnotBinary, p)
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), AnnotBinary) {
			t.Errorf("%s: resolved to %q, %v; want InvalidArgument naming %s", p, got, err, AnnotBinary)
		}
	}
	// And through Create's path: prepare refuses before anything starts.
	c := &Config{Type: GuestPVH, Binary: "/abs-link"}
	if _, err := prepare(t.Context(), &assets{qemu: "/q"}, t.TempDir(), rootfs, rootfs, c, testSpecFor(rootfs), accelTCG(), "/q.sock"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("prepare with a symlink out of the rootfs: %v", err)
	}
}

func TestGuestExit(t *testing.T) {
	for _, c := range []struct {
		guest  string
		raw    driver.ExitStatus
		status string
		killed int
		code   uint32
		sig    int32
	}{
		{GuestPVH, driver.ExitStatus{Code: 43}, "", 0, 21, 0},
		{GuestPVH, driver.ExitStatus{Code: 1}, "", 0, 0, 0},
		{GuestPVH, driver.ExitStatus{Code: 0}, "", 0, 0, 0},
		{GuestPVH, driver.ExitStatus{Code: 0}, "", 15, 143, 15},
		{GuestPVH, driver.ExitStatus{Code: 137, Signal: 9}, "", 9, 137, 9},
		{GuestPVH, driver.ExitStatus{Code: 2}, "", 0, 2, 0},
		{GuestLinux, driver.ExitStatus{Code: 1}, "rtd-exit: 200\n", 0, 200, 0},
		{GuestLinux, driver.ExitStatus{Code: 0}, "\x00\x00", 15, 143, 15},
		{GuestLinux, driver.ExitStatus{Code: 1}, "\x00\x00", 0, 255, 0},
		{GuestLinux, driver.ExitStatus{Code: 1}, "rtd-exit: 137 oom\n", 0, 137, 0},
	} {
		got := guestExit(c.guest, c.raw, []byte(c.status), c.killed)
		if got.Code != c.code || got.Signal != c.sig || got.OOMKilled != strings.HasSuffix(c.status, "oom\n") {
			t.Errorf("%s raw %+v status %q killed %d: got %d/%d, want %d/%d", c.guest, c.raw, c.status, c.killed, got.Code, got.Signal, c.code, c.sig)
		}
	}
}

// A mewz guest's QEMU argv has its exit device once, after rtd's own, and
// its command line as the single -append argument.
func TestMewzQEMUArgv(t *testing.T) {
	rootfs := t.TempDir()
	if err := os.WriteFile(filepath.Join(rootfs, "k.elf"), []byte("ELF"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := load(t, annots(AnnotType, "mewz", AnnotBinary, "/k.elf", AnnotCmdline, "ip=10.0.0.2/24 -kernel /etc/passwd"), rootfs)
	if err != nil {
		t.Fatal(err)
	}
	m, err := prepare(t.Context(), &assets{qemu: "/usr/bin/qemu"}, t.TempDir(), rootfs, rootfs, c, testSpecFor(rootfs), accelTCG(), "/q.sock")
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(m.args(), "\x00")
	if strings.Count(args, "isa-debug-exit,iobase=0x501,iosize=2") != 1 || !strings.Contains(args, "-append\x00ip=10.0.0.2/24 -kernel /etc/passwd\x00") {
		t.Errorf("mewz argv %q", m.args())
	}
}

// TestGuestToldItsAddress: a guest that reads its network from its command
// line (mewz here) gets the address and gateway CNI gave the container's
// namespace, taken from the namespace, as urunc passes them.
func TestGuestToldItsAddress(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: makes a network namespace")
	}
	ns := filepath.Join(t.TempDir(), "netns")
	if err := nettap.NewNS(ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nettap.RemoveNS(ns) })
	err := nettap.InNS(ns, func() error {
		if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, PeerName: "peer0"}); err != nil {
			return err
		}
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		addr, _ := netlink.ParseAddr("10.252.3.7/24")
		if err := netlink.AddrAdd(l, addr); err != nil {
			return err
		}
		if err := netlink.LinkSetUp(l); err != nil {
			return err
		}
		return netlink.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Gw: net.ParseIP("10.252.3.1")})
	})
	if err != nil {
		t.Fatal(err)
	}
	rootfs := t.TempDir()
	if err := os.WriteFile(filepath.Join(rootfs, "k.elf"), []byte("ELF"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := load(t, annots(AnnotType, "mewz", AnnotBinary, "/k.elf", AnnotCmdline, "app"), rootfs)
	if err != nil {
		t.Fatal(err)
	}
	spec := testSpecFor(rootfs)
	spec.Linux = &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: ns}}}
	m, err := prepare(t.Context(), &assets{qemu: "/usr/bin/qemu"}, t.TempDir(), rootfs, rootfs, c, spec, accelTCG(), "/q.sock")
	if err != nil {
		t.Fatal(err)
	}
	if want := "ip=10.252.3.7/24 gateway=10.252.3.1 app"; m.Append != want {
		t.Errorf("mewz command line %q, want %q", m.Append, want)
	}
}
