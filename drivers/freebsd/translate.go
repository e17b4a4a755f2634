package freebsd

import (
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// Annotations that set FreeBSD jail parameters, named after jail(8). They
// come from the CreateRequest or from config.json's annotations (the
// request wins) and are translated into the spec's freebsd section
// (runtime-spec v1.3) and runj's runj.ext.json. An unknown key under
// "org.freebsd." or an invalid value is InvalidArgument: a typo must not
// silently run a jail with other parameters than asked.
const (
	// AnnotationPrefix marks every annotation the driver reads.
	AnnotationPrefix = "org.freebsd."
	// JailPrefix prefixes jail(8) parameters: org.freebsd.jail.host,
	// .ip4, .ip4.addr, .ip6, .ip6.addr, .interface, .sysvmsg, .sysvsem,
	// .sysvshm, .enforce_statfs, .parent, .host.hostname, .host.domainname,
	// .allow.mount (comma list) and the booleans .allow.set_hostname,
	// .allow.raw_sockets, .allow.chflags, .allow.quotas, .allow.socket_af,
	// .allow.mlock, .allow.reserved_ports, .allow.suser.
	JailPrefix = AnnotationPrefix + "jail."
	// AnnotationVnet is the vnet mode: "new" (own network stack) or "inherit".
	AnnotationVnet = AnnotationPrefix + "vnet"
	// AnnotationVnetInterfaces lists interfaces moved into a new vnet.
	AnnotationVnetInterfaces = AnnotationPrefix + "vnet.interfaces"
	// AnnotationDevfsRuleset is the devfs(8) ruleset of the jail's /dev.
	AnnotationDevfsRuleset = AnnotationPrefix + "devfs.ruleset"
)

var (
	ifaceRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.]{0,14}$`)
	fsTypeRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)
	jailRE   = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	hostRE   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$`)
)

// Extension is runj's own extension file, runj.ext.json, read from the
// bundle directory. It predates the spec's freebsd section and only holds
// network settings; the driver writes it next to config.json so that runj
// versions without freebsd.jail support get the network right too.
type Extension struct {
	Network *ExtNetwork `json:"network,omitempty"`
}

// ExtNetwork is the "network" object of runj.ext.json.
type ExtNetwork struct {
	IPv4 *ExtIPv4 `json:"ipv4,omitempty"`
	VNet *ExtVNet `json:"vnet,omitempty"`
}

// ExtIPv4 is the jail's ip4 mode and addresses.
type ExtIPv4 struct {
	Mode string   `json:"mode,omitempty"`
	Addr []string `json:"addr,omitempty"`
}

// ExtVNet is the jail's vnet mode and the interfaces moved into it.
type ExtVNet struct {
	Mode       string   `json:"mode,omitempty"`
	Interfaces []string `json:"interfaces,omitempty"`
}

// Translate applies the org.freebsd.* annotations (request annotations
// over config.json's) to a copy of spec's freebsd section, hostname and
// /dev mount, checks the result, and returns the spec to hand to runj with
// its runj.ext.json (nil when no network setting is made).
func Translate(id string, spec *specs.Spec, annotations map[string]string) (*specs.Spec, *Extension, error) {
	if spec == nil {
		return nil, nil, driver.InvalidArgumentf("create %s: no spec", id)
	}
	out := *spec
	jail := &specs.FreeBSDJail{}
	if spec.FreeBSD != nil {
		out.FreeBSD = &specs.FreeBSD{Devices: spec.FreeBSD.Devices}
		if spec.FreeBSD.Jail != nil {
			j := *spec.FreeBSD.Jail
			jail = &j
		}
	} else {
		out.FreeBSD = &specs.FreeBSD{}
	}
	out.Mounts = slices.Clone(spec.Mounts)
	merged := map[string]string{}
	for k, v := range spec.Annotations {
		merged[k] = v
	}
	for k, v := range annotations {
		merged[k] = v
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		if strings.HasPrefix(k, AnnotationPrefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := apply(&out, jail, k, strings.TrimSpace(merged[k])); err != nil {
			return nil, nil, fmt.Errorf("create %s: annotation %s=%q: %w", id, k, merged[k], err)
		}
	}
	if err := check(&out, jail); err != nil {
		return nil, nil, fmt.Errorf("create %s: %w", id, err)
	}
	// jail(8): addresses imply the "new" mode; runj.ext.json wants it said.
	if len(jail.Ip4Addr) > 0 && jail.Ip4 == "" {
		jail.Ip4 = specs.FreeBSDShareNew
	}
	if len(jail.Ip6Addr) > 0 && jail.Ip6 == "" {
		jail.Ip6 = specs.FreeBSDShareNew
	}
	if !reflect.ValueOf(*jail).IsZero() {
		out.FreeBSD.Jail = jail
	}
	if out.FreeBSD.Jail == nil && len(out.FreeBSD.Devices) == 0 {
		out.FreeBSD = nil
	}
	return &out, extension(jail), nil
}

// apply sets one annotation; a value already set differently in config.json
// is a conflict.
func apply(s *specs.Spec, j *specs.FreeBSDJail, key, v string) error {
	switch key {
	case AnnotationVnet:
		return setSharing(&j.Vnet, v, "new", "inherit")
	case AnnotationVnetInterfaces:
		return setList(&j.VnetInterfaces, v, checkIface)
	case AnnotationDevfsRuleset:
		return setDevfsRuleset(s, v)
	}
	param, ok := strings.CutPrefix(key, JailPrefix)
	if !ok {
		return driver.InvalidArgumentf("unknown annotation (want %s*, %s, %s or %s)", JailPrefix, AnnotationVnet, AnnotationVnetInterfaces, AnnotationDevfsRuleset)
	}
	switch param {
	case "host":
		return setSharing(&j.Host, v, "new", "inherit")
	case "ip4":
		return setSharing(&j.Ip4, v, "new", "inherit", "disable")
	case "ip6":
		return setSharing(&j.Ip6, v, "new", "inherit", "disable")
	case "ip4.addr":
		return setList(&j.Ip4Addr, v, checkAddr(true))
	case "ip6.addr":
		return setList(&j.Ip6Addr, v, checkAddr(false))
	case "sysvmsg":
		return setSharing(&j.SysVMsg, v, "new", "inherit", "disable")
	case "sysvsem":
		return setSharing(&j.SysVSem, v, "new", "inherit", "disable")
	case "sysvshm":
		return setSharing(&j.SysVShm, v, "new", "inherit", "disable")
	case "interface":
		return setString(&j.Interface, v, checkIface)
	case "parent":
		return setString(&j.Parent, v, matching(jailRE, "a jail name"))
	case "host.hostname":
		return setString(&s.Hostname, v, matching(hostRE, "a host name"))
	case "host.domainname":
		return setString(&s.Domainname, v, matching(hostRE, "a domain name"))
	case "enforce_statfs":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 2 {
			return driver.InvalidArgumentf("want 0, 1 or 2")
		}
		if j.EnforceStatfs != nil && *j.EnforceStatfs != n {
			return conflict(strconv.Itoa(*j.EnforceStatfs))
		}
		j.EnforceStatfs = &n
		return nil
	case "allow.mount":
		if j.Allow == nil {
			j.Allow = &specs.FreeBSDJailAllow{}
		}
		return setList(&j.Allow.Mount, v, matching(fsTypeRE, "a file system type"))
	}
	if name, ok := strings.CutPrefix(param, "allow."); ok {
		return setAllow(j, name, v)
	}
	return driver.InvalidArgumentf("unknown jail parameter %q", param)
}

// setAllow sets one boolean allow.* parameter.
func setAllow(j *specs.FreeBSDJail, name, v string) error {
	if j.Allow == nil {
		j.Allow = &specs.FreeBSDJailAllow{}
	}
	a := j.Allow
	field := map[string]*bool{
		"set_hostname": &a.SetHostname, "raw_sockets": &a.RawSockets, "chflags": &a.Chflags,
		"quotas": &a.Quotas, "socket_af": &a.SocketAf, "mlock": &a.Mlock,
		"reserved_ports": &a.ReservedPorts, "suser": &a.Suser,
	}[name]
	if field == nil {
		return driver.InvalidArgumentf("unknown jail parameter allow.%s", name)
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return driver.InvalidArgumentf("want true or false")
	}
	if *field && !b {
		return conflict("true")
	}
	*field = b
	return nil
}

func conflict(existing string) error {
	return driver.InvalidArgumentf("config.json's freebsd section already sets %q", existing)
}

func setSharing(dst *specs.FreeBSDSharing, v string, allowed ...string) error {
	if !slices.Contains(allowed, v) {
		return driver.InvalidArgumentf("want one of %s", strings.Join(allowed, ", "))
	}
	if *dst != "" && string(*dst) != v {
		return conflict(string(*dst))
	}
	*dst = specs.FreeBSDSharing(v)
	return nil
}

func setString(dst *string, v string, valid func(string) error) error {
	if err := valid(v); err != nil {
		return err
	}
	if *dst != "" && *dst != v {
		return conflict(*dst)
	}
	*dst = v
	return nil
}

// setList sets a comma-separated list.
func setList(dst *[]string, v string, valid func(string) error) error {
	var items []string
	for _, it := range strings.Split(v, ",") {
		it = strings.TrimSpace(it)
		if err := valid(it); err != nil {
			return err
		}
		items = append(items, it)
	}
	if len(*dst) > 0 && !slices.Equal(*dst, items) {
		return conflict(strings.Join(*dst, ","))
	}
	*dst = items
	return nil
}

func matching(re *regexp.Regexp, what string) func(string) error {
	return func(s string) error {
		if !re.MatchString(s) {
			return driver.InvalidArgumentf("%q is not %s", s, what)
		}
		return nil
	}
}

func checkIface(s string) error { return matching(ifaceRE, "a network interface name")(s) }

func checkAddr(v4 bool) func(string) error {
	return func(s string) error {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Is4() != v4 || a.Zone() != "" {
			return driver.InvalidArgumentf("%q is not an IPv%s address", s, map[bool]string{true: "4", false: "6"}[v4])
		}
		return nil
	}
}

// setDevfsRuleset puts ruleset=N on the devfs mounted at /dev, adding that
// mount when the spec has none.
func setDevfsRuleset(s *specs.Spec, v string) error {
	n, err := strconv.ParseUint(v, 10, 16)
	if err != nil {
		return driver.InvalidArgumentf("want a devfs ruleset number (0-65535)")
	}
	opt := "ruleset=" + strconv.FormatUint(n, 10)
	for i, m := range s.Mounts {
		if m.Destination != "/dev" {
			continue
		}
		if m.Type != "devfs" {
			return driver.InvalidArgumentf("/dev is mounted as %q: a devfs ruleset needs devfs there", m.Type)
		}
		opts := slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return strings.HasPrefix(o, "ruleset=") })
		s.Mounts[i].Options = append(opts, opt)
		return nil
	}
	s.Mounts = append(s.Mounts, specs.Mount{Destination: "/dev", Type: "devfs", Source: "devfs", Options: []string{opt}})
	return nil
}

// check refuses combinations jail(8) or runj refuse.
func check(s *specs.Spec, j *specs.FreeBSDJail) error {
	if j.Host == specs.FreeBSDShareInherit && (s.Hostname != "" || s.Domainname != "") {
		return driver.InvalidArgumentf("jail host=inherit uses the host's names: hostname/domainname must be empty")
	}
	for _, fam := range []struct {
		name  string
		mode  specs.FreeBSDSharing
		addrs []string
	}{{"ip4", j.Ip4, j.Ip4Addr}, {"ip6", j.Ip6, j.Ip6Addr}} {
		if len(fam.addrs) > 0 && (fam.mode == specs.FreeBSDShareDisable || fam.mode == specs.FreeBSDShareInherit) {
			return driver.InvalidArgumentf("jail %s=%s cannot have %s.addr", fam.name, fam.mode, fam.name)
		}
		if len(fam.addrs) > 0 && j.Vnet == specs.FreeBSDShareNew {
			return driver.InvalidArgumentf("jail vnet=new configures addresses inside the jail: %s.addr must be empty", fam.name)
		}
	}
	if len(j.VnetInterfaces) > 0 && j.Vnet != specs.FreeBSDShareNew {
		return driver.InvalidArgumentf("vnet interfaces need vnet=new")
	}
	if j.Interface != "" && len(j.Ip4Addr)+len(j.Ip6Addr) == 0 {
		return driver.InvalidArgumentf("jail interface %q without ip4.addr or ip6.addr", j.Interface)
	}
	if a := j.Allow; a != nil && len(a.Mount) > 0 && (j.EnforceStatfs == nil || *j.EnforceStatfs > 1) {
		return driver.InvalidArgumentf("jail allow.mount needs enforce_statfs 0 or 1 (jail(8))")
	}
	return nil
}

// extension mirrors the network settings into runj.ext.json's schema.
func extension(j *specs.FreeBSDJail) *Extension {
	var n ExtNetwork
	if j.Ip4 != "" || len(j.Ip4Addr) > 0 {
		n.IPv4 = &ExtIPv4{Mode: string(j.Ip4), Addr: j.Ip4Addr}
	}
	if j.Vnet != "" {
		n.VNet = &ExtVNet{Mode: string(j.Vnet), Interfaces: j.VnetInterfaces}
	}
	if n.IPv4 == nil && n.VNet == nil {
		return nil
	}
	return &Extension{Network: &n}
}
