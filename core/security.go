package core

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"

	"github.com/containerd/containerd/v2/contrib/seccomp"
	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// Values of SecurityOptions.Seccomp besides a file path.
const (
	// SeccompDefault is docker's and containerd's default profile
	// (containerd's contrib/seccomp), computed for the container's
	// capabilities.
	SeccompDefault = ""
	// SeccompUnconfined applies no profile.
	SeccompUnconfined = "unconfined"
)

// SecurityOptions are docker's --cap-add, --cap-drop, --privileged and
// --security-opt settings.
type SecurityOptions struct {
	// CapAdd and CapDrop name capabilities with or without CAP_, in any
	// case, or ALL.
	CapAdd, CapDrop []string
	// Privileged gives every capability, no seccomp profile, no masked or
	// read-only paths, writable /sys and access to every device cgroup rule.
	Privileged bool
	// Seccomp is SeccompDefault, SeccompUnconfined or the path of a profile
	// in the OCI spec's linux.seccomp JSON form.
	Seccomp string
	// NoNewPrivileges, when set, overrides the spec's noNewPrivileges (rtd's
	// default spec sets it; docker's does not).
	NoNewPrivileges *bool
}

// SecurityOpts parses docker's --security-opt values into o:
// seccomp=unconfined|FILE, no-new-privileges[=true|false]. Others
// (apparmor, label) are InvalidArgument.
func (o *SecurityOptions) SecurityOpts(values []string) error {
	for _, v := range values {
		key, val, hasVal := strings.Cut(v, "=")
		if !hasVal {
			key, val, hasVal = strings.Cut(v, ":") // docker's old form
		}
		switch key {
		case "seccomp":
			if val == "" {
				return driver.InvalidArgumentf("invalid --security-opt %q: want seccomp=unconfined or seccomp=FILE", v)
			}
			o.Seccomp = val
		case "no-new-privileges":
			b := true
			if hasVal {
				switch val {
				case "true":
				case "false":
					b = false
				default:
					return driver.InvalidArgumentf("invalid --security-opt %q: want no-new-privileges, no-new-privileges=true or no-new-privileges=false", v)
				}
			}
			o.NoNewPrivileges = &b
		default:
			return driver.InvalidArgumentf("unsupported --security-opt %q: rtd supports seccomp=unconfined|FILE and no-new-privileges[=true|false] (no apparmor or selinux labels)", v)
		}
	}
	return nil
}

// applySecurity applies o to spec. With defaults true (a spec rtd builds,
// not a bundle's own), a spec without a profile gets docker's default
// seccomp profile for its final capability set.
func applySecurity(spec *specs.Spec, o SecurityOptions, defaults bool) error {
	p := spec.Process
	if spec.Linux == nil {
		if !o.Privileged && o.Seccomp == SeccompDefault && !defaults {
			// A bundle for another OS (windows, freebsd): only the
			// process's settings apply.
			return applyCapsAndNNP(p, o)
		}
		spec.Linux = &specs.Linux{}
	}
	if o.Privileged {
		all := boundingCapabilities()
		p.Capabilities = &specs.LinuxCapabilities{Bounding: all, Effective: all, Permitted: all}
		spec.Linux.MaskedPaths = nil
		spec.Linux.ReadonlyPaths = nil
		for i, m := range spec.Mounts {
			if m.Destination == "/sys" || m.Destination == "/sys/fs/cgroup" {
				spec.Mounts[i].Options = slices.DeleteFunc(slices.Clone(m.Options), func(s string) bool { return s == "ro" })
			}
		}
		if spec.Linux.Resources == nil {
			spec.Linux.Resources = &specs.LinuxResources{}
		}
		spec.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	}
	if err := applyCapsAndNNP(p, o); err != nil {
		return err
	}
	switch {
	case o.Privileged && o.Seccomp == SeccompDefault, o.Seccomp == SeccompUnconfined:
		spec.Linux.Seccomp = nil
	case o.Seccomp != SeccompDefault:
		prof, err := loadSeccompProfile(o.Seccomp)
		if err != nil {
			return err
		}
		spec.Linux.Seccomp = prof
	case defaults && spec.Linux.Seccomp == nil:
		// Empty (no default action) where containerd has no profile for
		// the OS: then none.
		if prof := seccomp.DefaultProfile(spec); prof.DefaultAction != "" {
			spec.Linux.Seccomp = prof
		}
	}
	return nil
}

// applyCapsAndNNP applies --cap-add, --cap-drop and no-new-privileges to p.
func applyCapsAndNNP(p *specs.Process, o SecurityOptions) error {
	if len(o.CapAdd) > 0 || len(o.CapDrop) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		caps, err := adjustCapabilities(p.Capabilities.Bounding, o.CapAdd, o.CapDrop)
		if err != nil {
			return err
		}
		p.Capabilities.Bounding = caps
		p.Capabilities.Effective = slices.Clone(caps)
		p.Capabilities.Permitted = slices.Clone(caps)
		p.Capabilities.Inheritable = nil
		p.Capabilities.Ambient = nil
	}
	if o.NoNewPrivileges != nil {
		p.NoNewPrivileges = *o.NoNewPrivileges
	}
	return nil
}

// loadSeccompProfile reads a profile in the OCI spec's linux.seccomp form
// (docker's profile files have the same field names).
func loadSeccompProfile(path string) (*specs.LinuxSeccomp, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, driver.InvalidArgumentf("seccomp profile %s: %v", path, err)
	}
	var prof specs.LinuxSeccomp
	if err := json.Unmarshal(data, &prof); err != nil {
		return nil, driver.InvalidArgumentf("seccomp profile %s: malformed JSON: %v", path, err)
	}
	if prof.DefaultAction == "" {
		return nil, driver.InvalidArgumentf("seccomp profile %s: no defaultAction (want a profile such as docker's default.json)", path)
	}
	return &prof, nil
}

// allCapabilities names every capability this build knows, as CAP_X.
func allCapabilities() []string {
	var out []string
	for _, c := range capability.ListKnown() {
		out = append(out, "CAP_"+strings.ToUpper(c.String()))
	}
	return out
}

// boundingCapabilities names the capabilities rtd itself may pass on (its
// bounding set): what --privileged and --cap-add ALL give. Asking for one
// outside it would fail the container's start ("operation not permitted"),
// e.g. CAP_SYS_RESOURCE where root runs without it.
func boundingCapabilities() []string {
	supported, err := capability.ListSupported()
	if err != nil {
		return allCapabilities()
	}
	var out []string
	for _, c := range supported {
		if ok, err := capability.GetBound(c); err == nil && ok {
			out = append(out, "CAP_"+strings.ToUpper(c.String()))
		}
	}
	return out
}

// normalizeCap turns "net_admin", "NET_ADMIN" or "CAP_NET_ADMIN" into
// CAP_NET_ADMIN, and "all" into ALL; unknown names are InvalidArgument.
func normalizeCap(name string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(name))
	if c == "ALL" {
		return c, nil
	}
	if !strings.HasPrefix(c, "CAP_") {
		c = "CAP_" + c
	}
	if !slices.Contains(allCapabilities(), c) {
		return "", driver.InvalidArgumentf("unknown capability %q: want a name such as NET_ADMIN or CAP_NET_ADMIN, or ALL", name)
	}
	return c, nil
}

// adjustCapabilities applies docker's rules: drops first (ALL drops
// every one), then adds (ALL adds every one); adding and dropping the same
// capability keeps it.
func adjustCapabilities(base, add, drop []string) ([]string, error) {
	out := slices.Clone(base)
	var adds []string
	for _, d := range drop {
		c, err := normalizeCap(d)
		if err != nil {
			return nil, err
		}
		if c == "ALL" {
			out = nil
			continue
		}
		out = slices.DeleteFunc(out, func(s string) bool { return s == c })
	}
	for _, a := range add {
		c, err := normalizeCap(a)
		if err != nil {
			return nil, err
		}
		if c == "ALL" {
			adds = append(adds, boundingCapabilities()...)
			continue
		}
		adds = append(adds, c)
	}
	for _, c := range adds {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// settleSeccomp leaves docker's default profile out of spec when the chosen
// driver's isolation class gives syscalls no meaning for a filter: a
// unikernel (the program is alone in its VM; the unikernel driver refuses
// a profile) and wasm (WASI modules make no syscalls themselves). A profile
// the user asked for (--security-opt seccomp=FILE) is left for the driver
// to enforce or refuse. It asks the driver's Info only when the selection
// did not already.
func settleSeccomp(ctx context.Context, d *Plugin, class driver.IsolationClass, spec *specs.Spec, o SecurityOptions, defaults bool) error {
	if !defaults || o.Seccomp != SeccompDefault || spec.Linux == nil || spec.Linux.Seccomp == nil {
		return nil
	}
	if class == "" {
		info, err := d.Info(ctx)
		if err != nil {
			return err
		}
		class = info.Isolation.Class
	}
	if class == driver.IsolationUnikernel || class == driver.IsolationWasm {
		spec.Linux.Seccomp = nil
	}
	return nil
}

// IsDefaultSeccomp reports whether spec's profile is docker's default
// profile for spec's capabilities (what rtd's default spec carries).
func IsDefaultSeccomp(spec *specs.Spec) bool {
	if spec.Linux == nil || spec.Linux.Seccomp == nil {
		return false
	}
	want, err1 := json.Marshal(seccomp.DefaultProfile(spec))
	got, err2 := json.Marshal(spec.Linux.Seccomp)
	return err1 == nil && err2 == nil && string(want) == string(got)
}
