package freebsd

import (
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func baseSpec() *specs.Spec {
	return &specs.Spec{
		Version: "1.0.2",
		Process: &specs.Process{Args: []string{"/bin/sh"}, Cwd: "/"},
		Root:    &specs.Root{Path: "/rootfs"},
		Mounts:  []specs.Mount{{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"}},
	}
}

func intp(v int) *int { return &v }

func TestTranslateValid(t *testing.T) {
	for _, tc := range []struct {
		name    string
		spec    func(*specs.Spec)
		ann     map[string]string
		check   func(*testing.T, *specs.Spec, *Extension)
		wantExt *Extension
	}{
		{name: "no annotations changes nothing", check: func(t *testing.T, s *specs.Spec, e *Extension) {
			if !reflect.DeepEqual(s, baseSpec()) || e != nil {
				t.Fatalf("spec %+v ext %+v", s, e)
			}
		}},
		{name: "other annotations are ignored", ann: map[string]string{"io.kubernetes.pod": "x", "org.freebsdx": "y"},
			check: func(t *testing.T, s *specs.Spec, e *Extension) {
				if s.FreeBSD != nil || e != nil {
					t.Fatalf("spec %+v", s.FreeBSD)
				}
			}},
		{name: "jail parameters", ann: map[string]string{
			JailPrefix + "host": "new", JailPrefix + "host.hostname": "web1", JailPrefix + "host.domainname": "example.org",
			JailPrefix + "ip4.addr": "10.0.0.5, 10.0.0.6", JailPrefix + "ip6": "disable", JailPrefix + "interface": "lo1",
			JailPrefix + "sysvshm": "new", JailPrefix + "sysvsem": "inherit", JailPrefix + "sysvmsg": "disable",
			JailPrefix + "enforce_statfs": "1", JailPrefix + "parent": "pod-1",
			JailPrefix + "allow.raw_sockets": "true", JailPrefix + "allow.mlock": "1", JailPrefix + "allow.chflags": "false",
			JailPrefix + "allow.mount": "tmpfs,nullfs", JailPrefix + "allow.set_hostname": "true", JailPrefix + "allow.suser": "true",
			JailPrefix + "allow.quotas": "true", JailPrefix + "allow.socket_af": "true", JailPrefix + "allow.reserved_ports": "true",
		}, check: func(t *testing.T, s *specs.Spec, e *Extension) {
			want := &specs.FreeBSDJail{
				Host: "new", Ip4: "new", Ip4Addr: []string{"10.0.0.5", "10.0.0.6"}, Ip6: "disable", Interface: "lo1",
				SysVShm: "new", SysVSem: "inherit", SysVMsg: "disable", EnforceStatfs: intp(1), Parent: "pod-1",
				Allow: &specs.FreeBSDJailAllow{RawSockets: true, Mlock: true, Mount: []string{"tmpfs", "nullfs"}, SetHostname: true,
					Suser: true, Quotas: true, SocketAf: true, ReservedPorts: true},
			}
			if !reflect.DeepEqual(s.FreeBSD.Jail, want) {
				t.Fatalf("jail %+v\nwant %+v", s.FreeBSD.Jail, want)
			}
			if s.Hostname != "web1" || s.Domainname != "example.org" {
				t.Fatalf("names %q %q", s.Hostname, s.Domainname)
			}
			wantExt := &Extension{Network: &ExtNetwork{IPv4: &ExtIPv4{Mode: "new", Addr: []string{"10.0.0.5", "10.0.0.6"}}}}
			if !reflect.DeepEqual(e, wantExt) {
				t.Fatalf("ext %+v", e.Network)
			}
		}},
		{name: "vnet", ann: map[string]string{AnnotationVnet: "new", AnnotationVnetInterfaces: "epair0b,epair1b"},
			check: func(t *testing.T, s *specs.Spec, e *Extension) {
				j := s.FreeBSD.Jail
				if j.Vnet != "new" || !reflect.DeepEqual(j.VnetInterfaces, []string{"epair0b", "epair1b"}) {
					t.Fatalf("jail %+v", j)
				}
				if e.Network.VNet.Mode != "new" || len(e.Network.VNet.Interfaces) != 2 || e.Network.IPv4 != nil {
					t.Fatalf("ext %+v", e.Network)
				}
			}},
		{name: "inherit the host network", ann: map[string]string{AnnotationVnet: "inherit", JailPrefix + "ip4": "inherit"},
			check: func(t *testing.T, s *specs.Spec, e *Extension) {
				if e.Network.IPv4.Mode != "inherit" || e.Network.VNet.Mode != "inherit" {
					t.Fatalf("ext %+v", e.Network)
				}
			}},
		{name: "devfs ruleset adds a devfs /dev", ann: map[string]string{AnnotationDevfsRuleset: "4"},
			check: func(t *testing.T, s *specs.Spec, e *Extension) {
				last := s.Mounts[len(s.Mounts)-1]
				if last.Destination != "/dev" || last.Type != "devfs" || !reflect.DeepEqual(last.Options, []string{"ruleset=4"}) {
					t.Fatalf("mounts %+v", s.Mounts)
				}
				if s.FreeBSD != nil || e != nil {
					t.Fatalf("freebsd %+v ext %+v", s.FreeBSD, e)
				}
			}},
		{name: "devfs ruleset replaces the one of /dev",
			spec: func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/dev", Type: "devfs", Source: "devfs", Options: []string{"ruleset=1", "rw"}})
			},
			ann: map[string]string{AnnotationDevfsRuleset: "5"},
			check: func(t *testing.T, s *specs.Spec, e *Extension) {
				if len(s.Mounts) != 2 || !reflect.DeepEqual(s.Mounts[1].Options, []string{"rw", "ruleset=5"}) {
					t.Fatalf("mounts %+v", s.Mounts)
				}
			}},
		{name: "agrees with config.json's freebsd section and keeps devices",
			spec: func(s *specs.Spec) {
				s.FreeBSD = &specs.FreeBSD{Devices: []specs.FreeBSDDevice{{Path: "pf"}}, Jail: &specs.FreeBSDJail{Vnet: "new"}}
			},
			ann: map[string]string{AnnotationVnet: "new"},
			check: func(t *testing.T, s *specs.Spec, e *Extension) {
				if s.FreeBSD.Jail.Vnet != "new" || len(s.FreeBSD.Devices) != 1 {
					t.Fatalf("freebsd %+v", s.FreeBSD)
				}
			}},
		{name: "config.json annotations are read too",
			spec: func(s *specs.Spec) { s.Annotations = map[string]string{JailPrefix + "allow.raw_sockets": "true"} },
			check: func(t *testing.T, s *specs.Spec, e *Extension) {
				if !s.FreeBSD.Jail.Allow.RawSockets {
					t.Fatal("raw_sockets from config.json not applied")
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := baseSpec()
			if tc.spec != nil {
				tc.spec(in)
			}
			before := deepCopy(t, in)
			out, ext, err := Translate("j1", in, tc.ann)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(in, before) {
				t.Fatal("Translate modified its input spec")
			}
			tc.check(t, out, ext)
		})
	}
}

func TestTranslateInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec func(*specs.Spec)
		ann  map[string]string
		want string
	}{
		{"unknown org.freebsd key", nil, map[string]string{"org.freebsd.jial.host": "new"}, "unknown annotation"},
		{"unknown jail parameter", nil, map[string]string{JailPrefix + "securelevel": "3"}, "unknown jail parameter"},
		{"unknown allow parameter", nil, map[string]string{JailPrefix + "allow.nfsd": "true"}, "allow.nfsd"},
		{"bad sharing", nil, map[string]string{JailPrefix + "host": "disable"}, "new, inherit"},
		{"bad vnet mode", nil, map[string]string{AnnotationVnet: "disable"}, "new, inherit"},
		{"bad bool", nil, map[string]string{JailPrefix + "allow.raw_sockets": "yes"}, "true or false"},
		{"bad enforce_statfs", nil, map[string]string{JailPrefix + "enforce_statfs": "3"}, "0, 1 or 2"},
		{"bad ip4 address", nil, map[string]string{JailPrefix + "ip4.addr": "10.0.0.300"}, "IPv4"},
		{"ipv6 in ip4.addr", nil, map[string]string{JailPrefix + "ip4.addr": "fd00::1"}, "IPv4"},
		{"ipv4 in ip6.addr", nil, map[string]string{JailPrefix + "ip6.addr": "10.0.0.1"}, "IPv6"},
		{"empty list item", nil, map[string]string{JailPrefix + "ip4.addr": "10.0.0.1,"}, "IPv4"},
		{"bad interface", nil, map[string]string{AnnotationVnet: "new", AnnotationVnetInterfaces: "epair0b;rm -rf"}, "interface name"},
		{"bad fs type", nil, map[string]string{JailPrefix + "enforce_statfs": "1", JailPrefix + "allow.mount": "Tmp FS"}, "file system type"},
		{"bad hostname", nil, map[string]string{JailPrefix + "host.hostname": "-bad-"}, "host name"},
		{"bad parent", nil, map[string]string{JailPrefix + "parent": "a/b"}, "jail name"},
		{"bad devfs ruleset", nil, map[string]string{AnnotationDevfsRuleset: "70000"}, "ruleset"},
		{"devfs ruleset on a tmpfs /dev", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/dev", Type: "tmpfs"})
		}, map[string]string{AnnotationDevfsRuleset: "4"}, "devfs"},
		{"host inherit with a hostname", func(s *specs.Spec) { s.Hostname = "web" }, map[string]string{JailPrefix + "host": "inherit"}, "host=inherit"},
		{"addresses with ip4 disabled", nil, map[string]string{JailPrefix + "ip4": "disable", JailPrefix + "ip4.addr": "10.0.0.1"}, "ip4=disable"},
		{"addresses with a new vnet", nil, map[string]string{AnnotationVnet: "new", JailPrefix + "ip6.addr": "fd00::1"}, "vnet=new"},
		{"vnet interfaces without vnet", nil, map[string]string{AnnotationVnetInterfaces: "epair0b"}, "vnet=new"},
		{"interface without addresses", nil, map[string]string{JailPrefix + "interface": "lo1"}, "without ip4.addr"},
		{"allow.mount with enforce_statfs 2", nil, map[string]string{JailPrefix + "allow.mount": "tmpfs"}, "enforce_statfs"},
		{"conflict with config.json", func(s *specs.Spec) {
			s.FreeBSD = &specs.FreeBSD{Jail: &specs.FreeBSDJail{Vnet: "inherit"}}
		}, map[string]string{AnnotationVnet: "new"}, "already sets"},
		{"conflicting hostname", func(s *specs.Spec) { s.Hostname = "a" }, map[string]string{JailPrefix + "host.hostname": "b"}, "already sets"},
		{"conflicting enforce_statfs", func(s *specs.Spec) {
			s.FreeBSD = &specs.FreeBSD{Jail: &specs.FreeBSDJail{EnforceStatfs: intp(2)}}
		}, map[string]string{JailPrefix + "enforce_statfs": "1"}, "already sets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := baseSpec()
			if tc.spec != nil {
				tc.spec(in)
			}
			out, _, err := Translate("j1", in, tc.ann)
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("got %+v, %v; want InvalidArgument", out, err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "j1") {
				t.Fatalf("error %q should name the container and mention %q", err, tc.want)
			}
		})
	}
	if _, _, err := Translate("j1", nil, nil); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("nil spec: %v", err)
	}
}

func deepCopy(t *testing.T, s *specs.Spec) *specs.Spec {
	t.Helper()
	c := *s
	c.Mounts = append([]specs.Mount(nil), s.Mounts...)
	for i := range c.Mounts {
		c.Mounts[i].Options = append([]string(nil), s.Mounts[i].Options...)
	}
	if s.FreeBSD != nil {
		f := *s.FreeBSD
		if f.Jail != nil {
			j := *f.Jail
			f.Jail = &j
		}
		c.FreeBSD = &f
	}
	return &c
}
