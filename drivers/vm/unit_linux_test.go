package vm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/drivers/vm/wire"
	"github.com/rtd-project/rtd/internal/vmm"
	"github.com/rtd-project/rtd/kit/nettap"
)

func TestGuestSpecRewritesRootAndBinds(t *testing.T) {
	bundle := t.TempDir()
	src := filepath.Join(bundle, "real")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(bundle, "link")); err != nil {
		t.Fatal(err)
	}
	spec := &specs.Spec{
		Root:  &specs.Root{Path: "rootfs", Readonly: true},
		Hooks: &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/host/hook"}}},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/a", Type: "bind", Source: "link", Options: []string{"ro"}},
			{Destination: "/b", Type: "none", Source: "/etc", Options: []string{"rbind", "ro"}},
			{Destination: "/c", Type: "bind", Source: "/tmp", Options: []string{"rbind"}},
			{Destination: "/d", Type: "bind", Source: "link", Options: []string{"rbind"}},
		},
	}
	g, sources, shares := guestSpec(bundle, spec, wire.GuestRootfs, wire.BindSource)
	if g.Root.Path != wire.GuestRootfs || !g.Root.Readonly || g.Hooks != nil {
		t.Errorf("root %+v hooks %+v", g.Root, g.Hooks)
	}
	// Read-only binds and files are copied into the binds image; a
	// read-write directory is shared live through virtiofs.
	if g.Mounts[0].Source != "proc" || g.Mounts[1].Source != wire.BindSource(0) || g.Mounts[2].Source != wire.BindSource(1) ||
		g.Mounts[3].Source != wire.ShareSource(0) || g.Mounts[4].Source != wire.BindSource(2) {
		t.Errorf("mounts %+v", g.Mounts)
	}
	if len(sources) != 3 || sources[0] != src || sources[1] != "/etc" || sources[2] != src {
		t.Errorf("sources %v, want [%s /etc %s]", sources, src, src)
	}
	if len(shares) != 1 || shares[0] != "/tmp" {
		t.Errorf("shares %v, want [/tmp]", shares)
	}
	if spec.Mounts[1].Source != "link" || spec.Root.Path != "rootfs" {
		t.Error("guestSpec changed the host's spec")
	}
}

// TestGuestSpecUsesTheGuestsNetwork: a network namespace named by path
// (its interfaces become the guest's) is dropped from the guest's spec, so
// the container runs in the guest's namespace; one without a path (loopback
// only) stays.
func TestGuestSpecUsesTheGuestsNetwork(t *testing.T) {
	spec := &specs.Spec{Root: &specs.Root{Path: "rootfs"}, Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
		{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace, Path: "/run/x/netns"}, {Type: specs.MountNamespace},
	}}}
	g, _, _ := guestSpec(t.TempDir(), spec, wire.GuestRootfs, wire.BindSource)
	for _, ns := range g.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			t.Errorf("the guest's spec joins %+v", ns)
		}
	}
	if len(g.Linux.Namespaces) != 2 || len(spec.Linux.Namespaces) != 3 {
		t.Errorf("guest namespaces %+v, host's %+v", g.Linux.Namespaces, spec.Linux.Namespaces)
	}
	spec.Linux.Namespaces[1].Path = ""
	if g, _, _ := guestSpec(t.TempDir(), spec, wire.GuestRootfs, wire.BindSource); len(g.Linux.Namespaces) != 3 {
		t.Errorf("a new network namespace was dropped: %+v", g.Linux.Namespaces)
	}
}

// TestCheckSpecNetworkNamespace: a namespace file is accepted, the host's
// namespace and a file that is no namespace are not.
func TestCheckSpecNetworkNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: makes a network namespace")
	}
	bundle := t.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	nsPath := filepath.Join(t.TempDir(), "netns")
	if err := nettap.NewNS(nsPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nettap.RemoveNS(nsPath) })
	with := func(path string) *specs.Spec {
		return &specs.Spec{Process: &specs.Process{Args: []string{"/x"}}, Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: path}}}}
	}
	if err := checkSpec("c", bundle, with(nsPath)); err != nil {
		t.Errorf("a network namespace file was refused: %v", err)
	}
	for _, bad := range []string{"/proc/1/ns/net", filepath.Join(bundle, "rootfs"), "/no/such/netns"} {
		if err := checkSpec("c", bundle, with(bad)); !errdefs.IsInvalidArgument(err) {
			t.Errorf("network namespace %s: %v, want InvalidArgument", bad, err)
		}
	}
}

func TestCheckSpecRefusesWhatAGuestCannotDo(t *testing.T) {
	bundle := t.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	ok := func() *specs.Spec {
		return &specs.Spec{Process: &specs.Process{Args: []string{"/x"}}, Linux: &specs.Linux{}}
	}
	if err := checkSpec("c", bundle, ok()); err != nil {
		t.Fatalf("valid spec refused: %v", err)
	}
	for name, mod := range map[string]func(*specs.Spec){
		"no process": func(s *specs.Spec) { s.Process = nil },
		"host netns": func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: "network", Path: "/proc/1/ns/net"}}
		},
		"missing bind src": func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/m", Type: "bind", Source: "/no/such/dir"}}
		},
		"missing rootfs": func(s *specs.Spec) { s.Root = &specs.Root{Path: "/no/such/rootfs"} },
		"the host's /":   func(s *specs.Spec) { s.Root = &specs.Root{Path: "../../../../../../../../"} },
	} {
		s := ok()
		mod(s)
		if err := checkSpec("c", bundle, s); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
}

func TestMemorySizing(t *testing.T) {
	for _, c := range []struct {
		limit int64
		want  int
	}{{0, defaultMemoryMiB}, {64 << 20, minMemoryMiB}, {300 << 20, 300 + overheadMiB}, {300<<20 + 1, 301 + overheadMiB}} {
		if got := memoryMiB(c.limit); got != c.want {
			t.Errorf("memoryMiB(%d) = %d, want %d", c.limit, got, c.want)
		}
	}
}

func TestQEMUArgs(t *testing.T) {
	k := &vmm.Kernel{Vmlinux: "/k/vmlinux"}
	c := vmConfig{accel: "tcg", memoryMiB: 256, cpus: 1, kernel: k, initrd: "/i", tscKHz: 2596120, console: "/c",
		agentPort: true, disks: []vmm.Disk{{Path: "/r.img", Serial: wire.RootfsSerial}}}
	args := strings.Join(c.qemuArgs(), " ")
	for _, want := range []string{"-accel tcg", "-cpu max", "-m 256M", "tsc_early_khz=2596120", "pci=off", "name=" + wire.PortName,
		"file=/r.img,if=none,id=disk0,format=raw,readonly=on", "serial=" + wire.RootfsSerial, "-no-reboot", "-nodefaults"} {
		if !strings.Contains(args, want) {
			t.Errorf("tcg args lack %q: %s", want, args)
		}
	}
	c.accel = "kvm"
	args = strings.Join(c.qemuArgs(), " ")
	if strings.Contains(args, "tsc_early_khz") || !strings.Contains(args, "-cpu host") {
		t.Errorf("kvm args: %s", args)
	}
	// Shared guest memory and modern virtio-mmio only with a virtiofs share.
	if strings.Contains(args, "memfd") || strings.Contains(args, "vhost-user") {
		t.Errorf("args without shares: %s", args)
	}
	c.nics = []string{"02:42:0a:42:00:05"}
	args = strings.Join(c.qemuArgs(), " ")
	for _, want := range []string{"-netdev tap,id=net0,fd=4", "-device virtio-net-device,netdev=net0,mac=02:42:0a:42:00:05"} {
		if !strings.Contains(args, want) {
			t.Errorf("args with a nic lack %q: %s", want, args)
		}
	}
	c.shares = []string{"/s/a.sock", "/s/b.sock"}
	args = strings.Join(c.qemuArgs(), " ")
	for _, want := range []string{"-object memory-backend-memfd,id=mem,size=256M,share=on", "-machine memory-backend=mem",
		"-global virtio-mmio.force-legacy=false", "-chardev socket,id=fs1,path=/s/b.sock",
		"-device vhost-user-fs-device,chardev=fs1,tag=" + wire.ShareTag(1)} {
		if !strings.Contains(args, want) {
			t.Errorf("args with shares lack %q: %s", want, args)
		}
	}
}
