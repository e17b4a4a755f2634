package network

import (
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestParsePort(t *testing.T) {
	for in, want := range map[string]Port{
		"8080:80":              {HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		"127.0.0.1:8080:80":    {HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		"0.0.0.0:53:53/udp":    {HostPort: 53, ContainerPort: 53, Protocol: "udp"},
		"10.1.2.3:1:65535/tcp": {HostIP: "10.1.2.3", HostPort: 1, ContainerPort: 65535, Protocol: "tcp"},
		// No host port: one is picked at create.
		"80":              {ContainerPort: 80, Protocol: "tcp"},
		"53/udp":          {ContainerPort: 53, Protocol: "udp"},
		"127.0.0.1::80":   {HostIP: "127.0.0.1", ContainerPort: 80, Protocol: "tcp"},
		"0.0.0.0::80/udp": {ContainerPort: 80, Protocol: "udp"},
	} {
		got, err := ParsePort(in)
		if err != nil || got != want {
			t.Errorf("ParsePort(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{":80", "x", "0", "x:80", "80:0", "70000:80", "8080:80/sctp", "::1:80:80", "a.b.c.d:80:80", ""} {
		if _, err := ParsePort(in); !errdefs.IsInvalidArgument(err) {
			t.Errorf("ParsePort(%q) = %v, want InvalidArgument", in, err)
		}
	}
}

func TestCheckPortFreeSeesPublishedPorts(t *testing.T) {
	p := Port{HostPort: 1, ContainerPort: 80, Protocol: "tcp"}
	taken := []Port{{HostIP: "127.0.0.1", HostPort: 1, ContainerPort: 81, Protocol: "tcp"}}
	if err := CheckPortFree(p, taken); !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), "already published") {
		t.Errorf("CheckPortFree = %v, want FailedPrecondition: already published", err)
	}
}

func TestResolvConfDropsLoopbackNameservers(t *testing.T) {
	got := string(ResolvConf([]byte("# c\nnameserver 127.0.0.53\nnameserver ::1\nnameserver 10.0.0.2\nsearch example.org\noptions edns0\n")))
	if strings.Contains(got, "127.0.0.53") || strings.Contains(got, "::1") ||
		!strings.Contains(got, "nameserver 10.0.0.2\n") || !strings.Contains(got, "search example.org\n") {
		t.Errorf("ResolvConf = %q", got)
	}
}

func TestHostsFile(t *testing.T) {
	got := string(HostsFile("web", "10.0.0.2", []Peer{{"db", "10.0.0.3"}, {"", "10.0.0.9"}}))
	for _, want := range []string{"127.0.0.1\tlocalhost\n", "10.0.0.2\tweb\n", "10.0.0.3\tdb\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("hosts file lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "10.0.0.9") {
		t.Errorf("a peer without a name is listed:\n%s", got)
	}
}

func TestStoreCreateGetListRemove(t *testing.T) {
	s := NewStore(t.TempDir())
	if _, err := s.Get("nope"); !errdefs.IsNotFound(err) {
		t.Errorf("Get of an unknown network = %v, want NotFound", err)
	}
	n, err := s.Create(CreateOptions{Name: "front", Bridge: "rtdunit0", Subnet: "10.251.3.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	if n.CNIName() == "" || !n.Names {
		t.Errorf("network = %+v", n)
	}
	for _, bad := range []CreateOptions{
		{Name: "front", Bridge: "rtdunit1", Subnet: "10.251.4.0/24"}, // name taken
		{Name: "bridge"}, // reserved
		{Name: "b2", Bridge: "rtdunit0", Subnet: "10.251.5.0/24"},               // bridge taken
		{Name: "b3", Bridge: "rtdunit3", Subnet: "10.251.0.0/16"},               // overlaps front
		{Name: "b4", Bridge: "rtdunit4", Subnet: "10.66.7.0/24"},                // inside the builtin network
		{Name: "b5", Bridge: "rtdunit5", Subnet: "fd00::/64"},                   // not IPv4
		{Name: "b6", Bridge: "rtdunit6", Subnet: "10.251.9.0/30"},               // too small
		{Name: "b7", Bridge: "a-name-longer-than-15", Subnet: "10.251.10.0/24"}, // device name too long
		{Name: "-x"},
	} {
		if _, err := s.Create(bad); err == nil {
			t.Errorf("Create(%+v) succeeded", bad)
		}
	}
	nets, err := s.List()
	if err != nil || len(nets) != 2 || nets[0].Name != Bridge || nets[1].Name != "front" {
		t.Errorf("List = %v, %v; want bridge, front", nets, err)
	}
	if err := s.Remove(Bridge); !errdefs.IsInvalidArgument(err) {
		t.Errorf("Remove(bridge) = %v, want InvalidArgument", err)
	}
	if err := s.Remove("front"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("front"); !errdefs.IsNotFound(err) {
		t.Errorf("Get after Remove = %v, want NotFound", err)
	}
}

// Network names: 1-64 characters of [a-zA-Z0-9_.-] starting with a letter
// or digit (the rule the regexp it replaced stated), reserved names refused.
func TestValidateName(t *testing.T) {
	long := strings.Repeat("a", 64)
	for name, ok := range map[string]bool{
		"net1": true, "My_net.2-x": true, "0": true, long: true,
		"": false, long + "a": false, "-net": false, "_net": false, ".net": false,
		"net/1": false, "net 1": false, "né": false, "bridge": false, "default": false,
	} {
		err := ValidateName(name)
		if (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok %v", name, err, ok)
		}
		if err != nil && !errdefs.IsInvalidArgument(err) {
			t.Errorf("ValidateName(%q): %v, want InvalidArgument", name, err)
		}
	}
}

// A port without a host port gets a free one, never one another container
// publishes.
func TestAllocatePort(t *testing.T) {
	p := Port{HostIP: "127.0.0.1", ContainerPort: 80, Protocol: "tcp"}
	got, err := AllocatePort(p, nil)
	if err != nil || got.HostPort == 0 || got.ContainerPort != 80 || got.HostIP != "127.0.0.1" {
		t.Fatalf("AllocatePort = %+v, %v", got, err)
	}
	if err := CheckPortFree(got, nil); err != nil {
		t.Errorf("the allocated port is not free: %v", err)
	}
	u, err := AllocatePort(Port{HostIP: "127.0.0.1", ContainerPort: 53, Protocol: "udp"}, []Port{got})
	if err != nil || u.HostPort == 0 || u.Protocol != "udp" {
		t.Errorf("AllocatePort udp = %+v, %v", u, err)
	}
}

// releaseList: the IPAM plugin alone for a veth and an address, nil for
// anything more (ports, an older attachment's ipMasq).
func TestReleaseList(t *testing.T) {
	n := &Network{Name: "x", Bridge: "rtdx", Subnet: "10.251.77.0/24", Root: "/r"}
	rel := string(releaseList(n.conflist("/r/networks/ipam", false)))
	for _, want := range []string{`"name":"` + n.CNIName() + `"`, `"cniVersion":"1.0.0"`, `"type":"host-local"`, `"dataDir":"/r/networks/ipam"`, `"subnet":"10.251.77.0/24"`} {
		if !strings.Contains(rel, want) {
			t.Errorf("releaseList lacks %s: %s", want, rel)
		}
	}
	if strings.Contains(rel, "bridge") {
		t.Errorf("releaseList runs bridge: %s", rel)
	}
	if rel := releaseList(n.conflist("/r/networks/ipam", true)); rel != nil {
		t.Errorf("releaseList with portmap = %s, want nil (the whole list's DEL)", rel)
	}
	old := `{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"bridge","bridge":"b","ipMasq":true,"ipam":{"type":"host-local"}}]}`
	if rel := releaseList([]byte(old)); rel != nil {
		t.Errorf("releaseList of an ipMasq attachment = %s, want nil", rel)
	}
}
