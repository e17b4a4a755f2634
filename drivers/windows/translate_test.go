package windows

import (
	"errors"
	"path"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

const testVolume = `\\?\Volume{3d4c4a5e-2b1a-4c3e-9f10-1234567890ab}\`

func u64(v uint64) *uint64 { return &v }
func u16(v uint16) *uint16 { return &v }

func testSpec() *specs.Spec {
	return &specs.Spec{
		Version:  "1.0.2",
		Hostname: "box",
		Process:  &specs.Process{Args: []string{"cmd.exe", "/c", "echo hi"}, Cwd: `C:\`},
		Root:     &specs.Root{Path: testVolume},
		Windows: &specs.Windows{
			LayerFolders: []string{`C:\layers\top`, `C:\layers\base`, `C:\layers\scratch`},
		},
	}
}

// fakeHost stands in for NameToGuid and the UtilityVM lookup.
func fakeHost() TranslateOptions {
	return TranslateOptions{
		HostCPUs: 4,
		Build:    20348,
		LayerID: func(folder string) (string, error) {
			if strings.Contains(folder, "broken") {
				return "", errors.New("not a layer")
			}
			return "guid-" + path.Base(strings.ReplaceAll(folder, `\`, "/")), nil
		},
		FindUtilityVM: func(layers []string) (string, error) {
			for _, l := range layers {
				if !strings.Contains(l, "nouvm") {
					return l + `\UtilityVM`, nil
				}
			}
			return "", errors.New("no UtilityVM folder")
		},
	}
}

func TestTranslateValid(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*specs.Spec)
		rootfs []driver.Mount
		opts   func(*TranslateOptions)
		check  func(*testing.T, *ContainerConfig)
	}{
		{name: "process isolation", check: func(t *testing.T, c *ContainerConfig) {
			want := &ContainerConfig{
				SystemType: "Container", Name: "c1", Owner: Owner, HostName: "box",
				VolumePath:      strings.TrimSuffix(testVolume, `\`),
				LayerFolderPath: `C:\layers\scratch`,
				Layers:          []Layer{{ID: "guid-top", Path: `C:\layers\top`}, {ID: "guid-base", Path: `C:\layers\base`}},
			}
			if !reflect.DeepEqual(c, want) {
				t.Fatalf("got %+v\nwant %+v", c, want)
			}
		}},
		{name: "hyperv section uses the top-most UtilityVM", mutate: func(s *specs.Spec) {
			s.Root = nil
			s.Windows.HyperV = &specs.WindowsHyperV{}
		}, check: func(t *testing.T, c *ContainerConfig) {
			if !c.HvPartition || c.HvRuntime == nil || c.HvRuntime.ImagePath != `C:\layers\top\UtilityVM` || c.VolumePath != "" {
				t.Fatalf("hyperv: %+v %+v", c, c.HvRuntime)
			}
		}},
		{name: "hyperv with explicit utility VM", mutate: func(s *specs.Spec) {
			s.Root.Path = ""
			s.Windows.HyperV = &specs.WindowsHyperV{UtilityVMPath: `D:\uvm`}
		}, check: func(t *testing.T, c *ContainerConfig) {
			if c.HvRuntime.ImagePath != `D:\uvm` {
				t.Fatalf("uvm %q", c.HvRuntime.ImagePath)
			}
		}},
		{name: "hyperv mode raises a spec without hyperv", mutate: func(s *specs.Spec) { s.Root = nil },
			opts: func(o *TranslateOptions) { o.Mode = ModeHyperV },
			check: func(t *testing.T, c *ContainerConfig) {
				if !c.HvPartition {
					t.Fatal("not Hyper-V in hyperv mode")
				}
			}},
		{name: "no root path uses the volume the driver mounted", mutate: func(s *specs.Spec) { s.Root = nil },
			opts: func(o *TranslateOptions) { o.VolumePath = testVolume },
			check: func(t *testing.T, c *ContainerConfig) {
				if c.VolumePath != strings.TrimSuffix(testVolume, `\`) {
					t.Fatalf("volume %q", c.VolumePath)
				}
			}},
		{name: "resources", mutate: func(s *specs.Spec) {
			s.Windows.Resources = &specs.WindowsResources{
				Memory:  &specs.WindowsMemoryResources{Limit: u64(3*mib/2 + 256*mib)},
				CPU:     &specs.WindowsCPUResources{Count: u64(16)},
				Storage: &specs.WindowsStorageResources{Iops: u64(100), Bps: u64(1 << 20), SandboxSize: u64(20 << 30)},
			}
		}, check: func(t *testing.T, c *ContainerConfig) {
			if c.MemoryMaximumInMB != 258 || c.ProcessorCount != 4 || c.StorageIOPSMaximum != 100 ||
				c.StorageBandwidthMaximum != 1<<20 || c.StorageSandboxSize != 20<<30 {
				t.Fatalf("resources: %+v", c)
			}
		}},
		{name: "cpu shares", mutate: func(s *specs.Spec) {
			s.Windows.Resources = &specs.WindowsResources{CPU: &specs.WindowsCPUResources{Shares: u16(500)}}
		}, check: func(t *testing.T, c *ContainerConfig) {
			if c.ProcessorWeight != 500 || c.ProcessorCount != 0 {
				t.Fatalf("cpu: %+v", c)
			}
		}},
		{name: "cpu maximum", mutate: func(s *specs.Spec) {
			s.Windows.Resources = &specs.WindowsResources{CPU: &specs.WindowsCPUResources{Maximum: u16(5000)}}
		}, check: func(t *testing.T, c *ContainerConfig) {
			if c.ProcessorMaximum != 5000 {
				t.Fatalf("cpu: %+v", c)
			}
		}},
		{name: "network", mutate: func(s *specs.Spec) {
			s.Windows.Network = &specs.WindowsNetwork{
				EndpointList:             []string{"0A1B2C3D-0000-1111-2222-333344445555"},
				AllowUnqualifiedDNSQuery: true,
				DNSSearchList:            []string{"corp.example", "example"},
			}
		}, check: func(t *testing.T, c *ContainerConfig) {
			if len(c.EndpointList) != 1 || !c.AllowUnqualifiedDNSQuery || c.DNSSearchList != "corp.example,example" {
				t.Fatalf("network: %+v", c)
			}
		}},
		{name: "shared network", mutate: func(s *specs.Spec) {
			s.Windows.Network = &specs.WindowsNetwork{NetworkSharedContainerName: "pause"}
		}, check: func(t *testing.T, c *ContainerConfig) {
			if c.NetworkSharedContainerName != "pause" {
				t.Fatalf("network: %+v", c)
			}
		}},
		{name: "mounts", mutate: func(s *specs.Spec) {
			s.Mounts = []specs.Mount{
				{Source: `C:\data`, Destination: `C:\data`, Options: []string{"ro"}},
				{Source: `D:\logs`, Destination: `C:\logs`, Type: "bind", Options: []string{"rbind", "rw"}},
				{Source: `\\.\pipe\docker_engine`, Destination: `\\.\pipe\docker_engine`},
			}
		}, check: func(t *testing.T, c *ContainerConfig) {
			want := []MappedDir{{HostPath: `C:\data`, ContainerPath: `C:\data`, ReadOnly: true}, {HostPath: `D:\logs`, ContainerPath: `C:\logs`}}
			if !reflect.DeepEqual(c.MappedDirectories, want) {
				t.Fatalf("dirs %+v", c.MappedDirectories)
			}
			if len(c.MappedPipes) != 1 || c.MappedPipes[0].ContainerPipeName != "docker_engine" {
				t.Fatalf("pipes %+v", c.MappedPipes)
			}
		}},
		{name: "devices", mutate: func(s *specs.Spec) {
			s.Windows.Devices = []specs.WindowsDevice{{ID: "5B45201D-F2F2-4F3B-85BB-30FF1F953599", IDType: "class"}}
		}, check: func(t *testing.T, c *ContainerConfig) {
			if len(c.AssignedDevices) != 1 || c.AssignedDevices[0].InterfaceClassGUID != "5B45201D-F2F2-4F3B-85BB-30FF1F953599" {
				t.Fatalf("devices %+v", c.AssignedDevices)
			}
		}},
		{name: "credential spec and flags", mutate: func(s *specs.Spec) {
			s.Windows.CredentialSpec = `{"CmsPlugins":["ActiveDirectory"]}`
			s.Windows.Servicing = true
			s.Windows.IgnoreFlushesDuringBoot = true
		}, check: func(t *testing.T, c *ContainerConfig) {
			if c.Credentials == "" || !c.Servicing || !c.IgnoreFlushesDuringBoot {
				t.Fatalf("flags %+v", c)
			}
		}},
		{name: "windows-layer rootfs mount", mutate: func(s *specs.Spec) { s.Windows.LayerFolders = nil },
			rootfs: []driver.Mount{{Type: WindowsLayerMount, Source: `C:\sn\scratch`, Options: []string{"rw", `parentLayerPaths=["C:\\sn\\l2","C:\\sn\\l1"]`}}},
			check: func(t *testing.T, c *ContainerConfig) {
				if c.LayerFolderPath != `C:\sn\scratch` || len(c.Layers) != 2 || c.Layers[0].Path != `C:\sn\l2` {
					t.Fatalf("layers %+v %q", c.Layers, c.LayerFolderPath)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testSpec()
			if tc.mutate != nil {
				tc.mutate(s)
			}
			o := fakeHost()
			if tc.opts != nil {
				tc.opts(&o)
			}
			c, err := Translate("c1", s, tc.rootfs, o)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestTranslateInvalid(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*specs.Spec)
		rootfs []driver.Mount
		opts   func(*TranslateOptions)
		want   string // part of the message
	}{
		{"no windows section", func(s *specs.Spec) { s.Windows = nil }, nil, nil, "no windows section"},
		{"no process", func(s *specs.Spec) { s.Process = nil }, nil, nil, "no process"},
		{"no layer folders", func(s *specs.Spec) { s.Windows.LayerFolders = nil }, nil, nil, "0 entries"},
		{"only the scratch layer", func(s *specs.Spec) { s.Windows.LayerFolders = []string{`C:\scratch`} }, nil, nil, "1 entries"},
		{"relative layer folder", func(s *specs.Spec) { s.Windows.LayerFolders[1] = `layers\base` }, nil, nil, "not an absolute"},
		{"linux layer folder", func(s *specs.Spec) { s.Windows.LayerFolders[1] = `/var/lib/base` }, nil, nil, "not an absolute"},
		{"duplicate layer", func(s *specs.Spec) { s.Windows.LayerFolders[1] = `c:\LAYERS\top` }, nil, nil, "twice"},
		{"unresolvable layer", func(s *specs.Spec) { s.Windows.LayerFolders[0] = `C:\broken` }, nil, nil, "not a layer"},
		{"hyperv with root path", func(s *specs.Spec) { s.Windows.HyperV = &specs.WindowsHyperV{} }, nil, nil, "must be empty for a Hyper-V"},
		{"hyperv relative utility VM", func(s *specs.Spec) {
			s.Root = nil
			s.Windows.HyperV = &specs.WindowsHyperV{UtilityVMPath: `uvm`}
		}, nil, nil, "utilityVMPath"},
		{"hyperv without utility VM", func(s *specs.Spec) {
			s.Root = nil
			s.Windows.LayerFolders = []string{`C:\nouvm1`, `C:\nouvm2`, `C:\scratch`}
			s.Windows.HyperV = &specs.WindowsHyperV{}
		}, nil, nil, "no utility VM image"},
		{"hyperv with devices", func(s *specs.Spec) {
			s.Root = nil
			s.Windows.HyperV = &specs.WindowsHyperV{}
			s.Windows.Devices = []specs.WindowsDevice{{ID: "5B45201D-F2F2-4F3B-85BB-30FF1F953599", IDType: "class"}}
		}, nil, nil, "not supported with Hyper-V"},
		{"root path not a volume", func(s *specs.Spec) { s.Root.Path = `C:\rootfs` }, nil, nil, `\\?\Volume{GUID}\`},
		{"linux rootfs", func(s *specs.Spec) { s.Root.Path = "rootfs" }, nil, nil, "root.path"},
		{"no root path and nothing mounted", func(s *specs.Spec) { s.Root = nil }, nil, nil, "root.path"},
		{"readonly root", func(s *specs.Spec) { s.Root.Readonly = true }, nil, nil, "root.readonly"},
		{"relative mount destination", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Source: `C:\data`, Destination: `data`}}
		}, nil, nil, "destination"},
		{"linux mount destination", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Source: `C:\data`, Destination: `/data`}}
		}, nil, nil, "destination"},
		{"relative mount source", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Source: `data`, Destination: `C:\data`}}
		}, nil, nil, "source"},
		{"linux mount type", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Type: "proc", Source: "proc", Destination: "/proc"}}
		}, nil, nil, `type "proc"`},
		{"unknown mount option", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Source: `C:\d`, Destination: `C:\d`, Options: []string{"nosuid"}}}
		}, nil, nil, "nosuid"},
		{"pipe mount from a directory", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Source: `C:\d`, Destination: `\\.\pipe\p`}}
		}, nil, nil, "named pipe"},
		{"pipe mount on an old build", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Source: `\\.\pipe\p`, Destination: `\\.\pipe\p`}}
		}, nil, func(o *TranslateOptions) { o.Build = 14393 }, "build"},
		{"memory below 1 MiB", func(s *specs.Spec) {
			s.Windows.Resources = &specs.WindowsResources{Memory: &specs.WindowsMemoryResources{Limit: u64(4096)}}
		}, nil, nil, "memory.limit"},
		{"cpu count 0", func(s *specs.Spec) {
			s.Windows.Resources = &specs.WindowsResources{CPU: &specs.WindowsCPUResources{Count: u64(0)}}
		}, nil, nil, "cpu.count"},
		{"cpu shares too big", func(s *specs.Spec) {
			s.Windows.Resources = &specs.WindowsResources{CPU: &specs.WindowsCPUResources{Shares: u16(10001)}}
		}, nil, nil, "cpu.shares"},
		{"cpu maximum 0", func(s *specs.Spec) {
			s.Windows.Resources = &specs.WindowsResources{CPU: &specs.WindowsCPUResources{Maximum: u16(0)}}
		}, nil, nil, "cpu.maximum"},
		{"cpu count and shares", func(s *specs.Spec) {
			s.Windows.Resources = &specs.WindowsResources{CPU: &specs.WindowsCPUResources{Count: u64(1), Shares: u16(2)}}
		}, nil, nil, "mutually exclusive"},
		{"cpu affinity", func(s *specs.Spec) {
			s.Windows.Resources = &specs.WindowsResources{CPU: &specs.WindowsCPUResources{Affinity: []specs.WindowsCPUGroupAffinity{{Mask: 1}}}}
		}, nil, nil, "affinity"},
		{"network namespace", func(s *specs.Spec) {
			s.Windows.Network = &specs.WindowsNetwork{NetworkNamespace: "ns"}
		}, nil, nil, "networkNamespace"},
		{"endpoint not a GUID", func(s *specs.Spec) {
			s.Windows.Network = &specs.WindowsNetwork{EndpointList: []string{"eth0"}}
		}, nil, nil, "endpoint GUID"},
		{"endpoints and a shared network", func(s *specs.Spec) {
			s.Windows.Network = &specs.WindowsNetwork{EndpointList: []string{"0A1B2C3D-0000-1111-2222-333344445555"}, NetworkSharedContainerName: "x"}
		}, nil, nil, "exclusive"},
		{"bad DNS suffix", func(s *specs.Spec) {
			s.Windows.Network = &specs.WindowsNetwork{DNSSearchList: []string{"a,b"}}
		}, nil, nil, "DNS suffix"},
		{"device by path", func(s *specs.Spec) {
			s.Windows.Devices = []specs.WindowsDevice{{ID: `\\.\COM1`, IDType: "path"}}
		}, nil, nil, "idType"},
		{"device class not a GUID", func(s *specs.Spec) {
			s.Windows.Devices = []specs.WindowsDevice{{ID: "gpu", IDType: "class"}}
		}, nil, nil, "interface class GUID"},
		{"devices on an old build", func(s *specs.Spec) {
			s.Windows.Devices = []specs.WindowsDevice{{ID: "5B45201D-F2F2-4F3B-85BB-30FF1F953599", IDType: "class"}}
		}, nil, func(o *TranslateOptions) { o.Build = 17134 }, "build"},
		{"credential spec object", func(s *specs.Spec) {
			s.Windows.CredentialSpec = map[string]any{"a": 1}
		}, nil, nil, "credentialSpec"},
		{"rootfs mount of a linux type", nil, []driver.Mount{{Type: "overlay", Source: "overlay"}}, nil, "windows-layer"},
		{"rootfs mount disagreeing with layerFolders", nil,
			[]driver.Mount{{Type: WindowsLayerMount, Source: `C:\other`, Options: []string{`parentLayerPaths=["C:\\base"]`}}}, nil, "disagree"},
		{"rootfs mount with bad parent list", func(s *specs.Spec) { s.Windows.LayerFolders = nil },
			[]driver.Mount{{Type: WindowsLayerMount, Source: `C:\s`, Options: []string{`parentLayerPaths=[C:\base]`}}}, nil, "parentLayerPaths"},
		{"no layer resolver", nil, nil, func(o *TranslateOptions) { o.LayerID = nil }, "resolver"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testSpec()
			if tc.mutate != nil {
				tc.mutate(s)
			}
			o := fakeHost()
			if tc.opts != nil {
				tc.opts(&o)
			}
			c, err := Translate("c1", s, tc.rootfs, o)
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("got %+v, %v; want InvalidArgument", c, err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "c1") {
				t.Fatalf("error %q should name the container and mention %q", err, tc.want)
			}
		})
	}
}

func TestTranslateNilSpec(t *testing.T) {
	if _, err := Translate("c1", nil, nil, fakeHost()); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("nil spec: %v", err)
	}
}

func TestIsAbsPath(t *testing.T) {
	for p, want := range map[string]bool{
		`C:\`: true, `c:/x`: true, `\\server\share`: true, `\\?\Volume{x}\`: true, `\\.\pipe\p`: true,
		`C:`: false, `C:x`: false, `\x`: false, `/x`: false, `x`: false, ``: false,
	} {
		if got := IsAbsPath(p); got != want {
			t.Errorf("IsAbsPath(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeProcess, "process": ModeProcess, "HyperV": ModeHyperV, "vm": ModeHyperV, "hyper-v": ModeHyperV} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseMode("sandbox"); !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), IsolationEnv) {
		t.Errorf("ParseMode(sandbox): %v", err)
	}
}
